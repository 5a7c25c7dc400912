// vla_mj.h: the small C surface the Go binding calls (MuJoCo 2.2.2 + OSMesa).
#ifndef VLA_MJ_H
#define VLA_MJ_H

#include <GL/osmesa.h>
#include <mujoco/mujoco.h>

typedef struct {
  OSMesaContext ctx;
  unsigned char* buf;
  int w, h;
} vla_gl;

typedef struct {
  mjModel* m;
  mjData* d;
  mjvScene scn;
  mjvOption opt;
  mjvCamera cam;
  mjrContext con;
  int rendering;
} vla_sim;

int vla_gl_create(vla_gl* g, int w, int h);
int vla_gl_current(vla_gl* g);
void vla_gl_release(void);
void vla_gl_destroy(vla_gl* g);

mjModel* vla_load_xml(const char* xml, int len, char* err, int errlen);
int vla_render_init(vla_sim* s, int maxgeom);
void vla_render_free(vla_sim* s);
int vla_render_rgbd(vla_sim* s, int camid, int w, int h, unsigned char* rgb, float* depth);
int vla_render_seg(vla_sim* s, int camid, int w, int h, unsigned char* scratch, int* geomids);

#endif
