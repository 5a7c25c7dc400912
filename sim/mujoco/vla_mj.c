// vla_mj.c: OSMesa context handling and offscreen rendering for the Go binding.
#include "vla_mj.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vla_gl_create(vla_gl* g, int w, int h) {
  g->ctx = OSMesaCreateContextExt(GL_RGBA, 24, 8, 8, NULL);
  if (!g->ctx) return -1;
  g->buf = (unsigned char*)malloc((size_t)w * h * 4);
  if (!g->buf) {
    OSMesaDestroyContext(g->ctx);
    g->ctx = NULL;
    return -2;
  }
  g->w = w;
  g->h = h;
  return 0;
}

int vla_gl_current(vla_gl* g) {
  if (!OSMesaMakeCurrent(g->ctx, g->buf, GL_UNSIGNED_BYTE, g->w, g->h)) return -3;
  return 0;
}

void vla_gl_release(void) { OSMesaMakeCurrent(NULL, NULL, 0, 0, 0); }

void vla_gl_destroy(vla_gl* g) {
  if (g->ctx) {
    // Never leave a destroyed context current on some thread: Mesa would
    // dereference it on the next context creation there.
    vla_gl_release();
    OSMesaDestroyContext(g->ctx);
  }
  free(g->buf);
  g->ctx = NULL;
  g->buf = NULL;
}

// MuJoCo's default warning handler appends to MUJOCO_LOG.TXT in the working
// directory; send warnings to stderr instead (the Go side also counts the
// instability warnings through mjData.warning).
static void vla_warning(const char* msg) {
  fprintf(stderr, "MuJoCo warning: %s\n", msg);
  fflush(stderr);
}

mjModel* vla_load_xml(const char* xml, int len, char* err, int errlen) {
  mju_user_warning = vla_warning;
  mjVFS* vfs = (mjVFS*)malloc(sizeof(mjVFS));
  if (!vfs) {
    snprintf(err, errlen, "out of memory for VFS");
    return NULL;
  }
  mj_defaultVFS(vfs);
  if (mj_makeEmptyFileVFS(vfs, "scene.xml", len) != 0) {
    free(vfs);
    snprintf(err, errlen, "cannot create VFS file");
    return NULL;
  }
  memcpy(vfs->filedata[0], xml, len);
  mjModel* m = mj_loadXML("scene.xml", vfs, err, errlen);
  mj_deleteVFS(vfs);
  free(vfs);
  fflush(stdout);  // MuJoCo prints through C stdio; keep it ordered with Go output.
  return m;
}

int vla_render_init(vla_sim* s, int maxgeom) {
  mjv_defaultOption(&s->opt);
  mjv_defaultCamera(&s->cam);
  mjv_defaultScene(&s->scn);
  mjr_defaultContext(&s->con);
  mjv_makeScene(s->m, &s->scn, maxgeom);
  mjr_makeContext(s->m, &s->con, mjFONTSCALE_50);
  mjr_setBuffer(mjFB_OFFSCREEN, &s->con);
  if (s->con.currentBuffer != mjFB_OFFSCREEN) {
    mjr_freeContext(&s->con);
    mjv_freeScene(&s->scn);
    return -1;
  }
  s->rendering = 1;
  return 0;
}

void vla_render_free(vla_sim* s) {
  if (!s->rendering) return;
  mjr_freeContext(&s->con);
  mjv_freeScene(&s->scn);
  s->rendering = 0;
}

static void vla_update(vla_sim* s, int camid) {
  s->cam.type = mjCAMERA_FIXED;
  s->cam.fixedcamid = camid;
  mjv_updateScene(s->m, s->d, &s->opt, NULL, &s->cam, mjCAT_ALL, &s->scn);
}

int vla_render_rgbd(vla_sim* s, int camid, int w, int h, unsigned char* rgb, float* depth) {
  if (!s->rendering || w > s->con.offWidth || h > s->con.offHeight) return -1;
  mjrRect vp = {0, 0, w, h};
  mjr_setBuffer(mjFB_OFFSCREEN, &s->con);
  vla_update(s, camid);
  s->scn.flags[mjRND_SEGMENT] = 0;
  s->scn.flags[mjRND_IDCOLOR] = 0;
  mjr_render(vp, &s->scn, &s->con);
  mjr_readPixels(rgb, depth, vp, &s->con);
  return 0;
}

int vla_render_seg(vla_sim* s, int camid, int w, int h, unsigned char* scratch, int* geomids) {
  if (!s->rendering || w > s->con.offWidth || h > s->con.offHeight) return -1;
  mjrRect vp = {0, 0, w, h};
  mjr_setBuffer(mjFB_OFFSCREEN, &s->con);
  vla_update(s, camid);
  s->scn.flags[mjRND_SEGMENT] = 1;
  s->scn.flags[mjRND_IDCOLOR] = 1;
  mjr_render(vp, &s->scn, &s->con);
  mjr_readPixels(scratch, NULL, vp, &s->con);
  s->scn.flags[mjRND_SEGMENT] = 0;
  s->scn.flags[mjRND_IDCOLOR] = 0;
  // IDCOLOR encodes segid+1 in the 24 colour bits; segid indexes the scene's
  // abstract geoms, which know the model geom they came from.
  int n = w * h;
  for (int i = 0; i < n; i++) {
    int seg = scratch[3 * i] + (scratch[3 * i + 1] << 8) + (scratch[3 * i + 2] << 16) - 1;
    int id = -1;
    if (seg >= 0 && seg < s->scn.ngeom && s->scn.geoms[seg].objtype == mjOBJ_GEOM) {
      id = s->scn.geoms[seg].objid;
    }
    geomids[i] = id;
  }
  return 0;
}
