// Package ros1 implements transport.Transport over goroslib: a ROS 1 node
// registered with a master, TCPROS publishers (latched for
// transport.Latched) and subscribers.
package ros1

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/bluenviron/goroslib/v2"
	"go.uber.org/zap"

	"github.com/vla3d/vla3d/transport"
)

// Conf configures New.
type Conf struct {
	// Name is the node name. It is required.
	Name string
	// MasterAddress is the master's host:port. It is required.
	MasterAddress string
	// (optional) Host is this node's address as others see it. It defaults
	// to goroslib's choice.
	Host string
	// (optional) Logger receives goroslib's log at debug level. It defaults
	// to none.
	Logger *zap.Logger
	// (optional) OnShutdown is called when the master shuts the node down
	// (`rosnode kill`, or another node taking the name), with the master's
	// reason. It defaults to none.
	OnShutdown func(reason string)
	// (optional) QueueSize of each subscriber. It defaults to 4.
	QueueSize int
}

// shutdownRequest is how goroslib v2.1.5 reports the master's shutdown
// call (it then stops the node silently; its log is the only hook).
const shutdownRequest = "got shutdown request"

// Transport is a ROS 1 node.
type Transport struct {
	n     *goroslib.Node
	queue int
}

// New registers a node with the master.
func New(c Conf) (*Transport, error) {
	if c.Name == "" {
		return nil, errors.New("ros1: Name not provided")
	}
	if c.MasterAddress == "" {
		return nil, errors.New("ros1: MasterAddress not provided")
	}
	log := c.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if c.QueueSize == 0 {
		c.QueueSize = 4
	}
	n, err := goroslib.NewNode(goroslib.NodeConf{
		Name: c.Name, MasterAddress: c.MasterAddress, Host: c.Host,
		LogDestinations: goroslib.LogDestinationCallback,
		OnLog: func(l goroslib.LogLevel, s string) {
			if c.OnShutdown != nil && strings.HasPrefix(s, shutdownRequest) {
				c.OnShutdown(strings.TrimSpace(strings.TrimPrefix(s, shutdownRequest)))
			}
			log.Debug("goroslib", zap.Int("level", int(l)), zap.String("msg", s))
		},
	})
	if err != nil {
		return nil, fmt.Errorf("ros1: connect to master %s: %w", c.MasterAddress, err)
	}
	return &Transport{n: n, queue: c.QueueSize}, nil
}

// Close unregisters the node.
func (t *Transport) Close() error {
	t.n.Close()
	return nil
}

type publisher struct {
	p   *goroslib.Publisher
	typ reflect.Type
}

// Publish creates a goroslib publisher, latched for transport.Latched.
func (t *Transport) Publish(topic string, msg any, p transport.Profile) (transport.Publisher, error) {
	pub, err := goroslib.NewPublisher(goroslib.PublisherConf{Node: t.n, Topic: topic, Msg: msg, Latch: p == transport.Latched})
	if err != nil {
		return nil, fmt.Errorf("ros1: publisher %s: %w", topic, err)
	}
	return &publisher{p: pub, typ: reflect.TypeOf(msg)}, nil
}

// Write publishes a shallow copy of msg: goroslib serialises
// asynchronously, so the caller may reuse the struct (not its slices).
func (p *publisher) Write(msg any) error {
	v := reflect.ValueOf(msg)
	if v.Type() != p.typ {
		return fmt.Errorf("ros1: message is %s, the publisher's type is %s", v.Type(), p.typ)
	}
	cp := reflect.New(p.typ.Elem())
	cp.Elem().Set(v.Elem())
	p.p.Write(cp.Interface())
	return nil
}

func (p *publisher) Close() { p.p.Close() }

type subscription struct{ s *goroslib.Subscriber }

func (s subscription) Close() { s.s.Close() }

// Subscribe creates a goroslib subscriber. goroslib takes the message type
// from the callback's parameter, so the callback is made for newMsg's type;
// goroslib decodes into a fresh message each time, so cb owns it.
func (t *Transport) Subscribe(topic string, newMsg func() any, cb func(msg any), _ transport.Profile, _ func(error)) (transport.Subscription, error) {
	msgType := reflect.TypeOf(newMsg())
	fn := reflect.MakeFunc(reflect.FuncOf([]reflect.Type{msgType}, nil, false), func(args []reflect.Value) []reflect.Value {
		cb(args[0].Interface())
		return nil
	})
	sub, err := goroslib.NewSubscriber(goroslib.SubscriberConf{Node: t.n, Topic: topic, Callback: fn.Interface(), QueueSize: uint(t.queue)})
	if err != nil {
		return nil, fmt.Errorf("ros1: subscribe %s: %w", topic, err)
	}
	return subscription{sub}, nil
}
