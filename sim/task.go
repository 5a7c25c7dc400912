package sim

import (
	"fmt"
	"sort"
)

// Task is a tabletop manipulation task: which object goes where, how it is
// phrased, and whether the target is placed behind an occluder.
type Task struct {
	Name        string
	Instruction string
	// Paraphrases are ordered from mild to strong rewording; the Language
	// perturbation draws from a severity-sized prefix of this list.
	Paraphrases []string
	Target      string
	Goal        string
	Stack       bool // place on top of Goal instead of into it
	Occlude     bool // put an occluder between the target and the front camera
}

// Task names.
const (
	TaskPickPlace = "pick_place"
	TaskStack     = "stack"
	TaskOcclusion = "occlusion"
)

// Tasks lists the available tasks.
func Tasks() []Task {
	bowl := []string{
		"place the red block in the bowl",
		"put the red cube into the bowl",
		"move the red block into the bowl",
		"pick up the red block and drop it in the bowl",
		"the red cube goes in the bowl",
		"grab the crimson cube and deposit it inside the dish",
	}
	return []Task{
		{Name: TaskPickPlace, Instruction: "put the red block in the bowl", Paraphrases: bowl, Target: "red_block", Goal: "bowl"},
		{Name: TaskStack, Instruction: "stack the red block on the green block", Target: "red_block", Goal: "green_block", Stack: true,
			Paraphrases: []string{
				"put the red block on the green block",
				"place the red cube on top of the green cube",
				"stack the red cube onto the green one",
				"set the red block on top of the green block",
				"the red block should sit on the green block",
				"pile the crimson cube onto the emerald cube",
			}},
		{Name: TaskOcclusion, Instruction: "put the red block in the bowl", Paraphrases: bowl, Target: "red_block", Goal: "bowl", Occlude: true},
	}
}

// LookupTask returns the named task or an error listing the valid names.
func LookupTask(name string) (Task, error) {
	var names []string
	for _, t := range Tasks() {
		if t.Name == name {
			return t, nil
		}
		names = append(names, t.Name)
	}
	sort.Strings(names)
	return Task{}, fmt.Errorf("sim: unknown task %q (valid: %v)", name, names)
}
