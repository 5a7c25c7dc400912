// rawcdr.c — see rawcdr.h. Modelled on what rmw_cyclonedds's serdata.cpp
// does for serialized messages (contiguous copy of the fragment chain,
// keyless: every sample is the same instance), written here for C.
#include <stdlib.h>
#include <string.h>
#include "dds/dds.h"
#include "dds/ddsi/ddsi_sertype.h"
#include "dds/ddsi/ddsi_serdata.h"
#include "dds/ddsi/q_radmin.h"
#include "rawcdr.h"

struct rawcdr_serdata {
  struct ddsi_serdata c;
  size_t size;
  unsigned char *data; // CDR, encapsulation header included
};

// A sample (dds_write/dds_take path, unused by Go but kept sound).
struct rawcdr_sample {
  void *data;
  size_t size;
};

static struct rawcdr_serdata *rawcdr_new(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, size_t size) {
  struct rawcdr_serdata *d = calloc(1, sizeof(*d));
  if (d == NULL) return NULL;
  ddsi_serdata_init(&d->c, type, kind);
  if (type != NULL) d->c.hash = type->serdata_basehash;
  d->size = size;
  if (size > 0) {
    d->data = malloc(size);
    if (d->data == NULL) { free(d); return NULL; }
  }
  return d;
}

static bool sd_eqkey(const struct ddsi_serdata *a, const struct ddsi_serdata *b) { (void)a; (void)b; return true; }

static uint32_t sd_get_size(const struct ddsi_serdata *dc) {
  const struct rawcdr_serdata *d = (const struct rawcdr_serdata *)dc;
  return (uint32_t)d->size;
}

static void sd_free(struct ddsi_serdata *dc) {
  struct rawcdr_serdata *d = (struct rawcdr_serdata *)dc;
  free(d->data);
  free(d);
}

static struct ddsi_serdata *sd_from_ser(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, const struct nn_rdata *fragchain, size_t size) {
  struct rawcdr_serdata *d = rawcdr_new(type, kind, size);
  if (d == NULL) return NULL;
  uint32_t off = 0;
  for (const struct nn_rdata *f = fragchain; f != NULL; f = f->nextfrag) {
    if (f->maxp1 > off && f->min <= off) {
      const unsigned char *payload = NN_RMSG_PAYLOADOFF(f->rmsg, NN_RDATA_PAYLOAD_OFF(f));
      uint32_t end = f->maxp1 > size ? (uint32_t)size : f->maxp1;
      memcpy(d->data + off, payload + (off - f->min), end - off);
      off = end;
    }
  }
  if (off < size) memset(d->data + off, 0, size - off);
  return &d->c;
}

static struct ddsi_serdata *sd_from_ser_iov(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, ddsrt_msg_iovlen_t niov, const ddsrt_iovec_t *iov, size_t size) {
  struct rawcdr_serdata *d = rawcdr_new(type, kind, size);
  if (d == NULL) return NULL;
  size_t off = 0;
  for (ddsrt_msg_iovlen_t i = 0; i < niov && off < size; i++) {
    size_t n = iov[i].iov_len;
    if (n > size - off) n = size - off;
    memcpy(d->data + off, iov[i].iov_base, n);
    off += n;
  }
  return &d->c;
}

static struct ddsi_serdata *sd_from_keyhash(const struct ddsi_sertype *type, const struct ddsi_keyhash *keyhash) {
  (void)keyhash;
  struct rawcdr_serdata *d = rawcdr_new(type, SDK_KEY, 0);
  return d ? &d->c : NULL;
}

static struct ddsi_serdata *sd_from_sample(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, const void *sample) {
  const struct rawcdr_sample *s = sample;
  if (kind != SDK_DATA) {
    struct rawcdr_serdata *d = rawcdr_new(type, kind, 0);
    return d ? &d->c : NULL;
  }
  struct rawcdr_serdata *d = rawcdr_new(type, kind, s->size);
  if (d == NULL) return NULL;
  if (s->size > 0) memcpy(d->data, s->data, s->size);
  return &d->c;
}

static void sd_to_ser(const struct ddsi_serdata *dc, size_t off, size_t sz, void *buf) {
  const struct rawcdr_serdata *d = (const struct rawcdr_serdata *)dc;
  if (off + sz <= d->size) memcpy(buf, d->data + off, sz);
}

static struct ddsi_serdata *sd_to_ser_ref(const struct ddsi_serdata *dc, size_t off, size_t sz, ddsrt_iovec_t *ref) {
  const struct rawcdr_serdata *d = (const struct rawcdr_serdata *)dc;
  ref->iov_base = d->data + off;
  ref->iov_len = (ddsrt_iov_len_t)sz;
  return ddsi_serdata_ref(dc);
}

static void sd_to_ser_unref(struct ddsi_serdata *dc, const ddsrt_iovec_t *ref) {
  (void)ref;
  ddsi_serdata_unref(dc);
}

static bool sd_to_sample(const struct ddsi_serdata *dc, void *sample, void **bufptr, void *buflim) {
  (void)bufptr; (void)buflim;
  const struct rawcdr_serdata *d = (const struct rawcdr_serdata *)dc;
  struct rawcdr_sample *s = sample;
  free(s->data);
  s->data = NULL;
  s->size = 0;
  if (d->size == 0) return true;
  s->data = malloc(d->size);
  if (s->data == NULL) return false;
  memcpy(s->data, d->data, d->size);
  s->size = d->size;
  return true;
}

// Keyless: the untyped (key-only) form carries nothing.
static struct ddsi_serdata *sd_to_untyped(const struct ddsi_serdata *dc) {
  struct rawcdr_serdata *d = rawcdr_new(dc->type, SDK_KEY, 0);
  if (d == NULL) return NULL;
  d->c.type = NULL;
  return &d->c;
}

static bool sd_untyped_to_sample(const struct ddsi_sertype *type, const struct ddsi_serdata *d, void *sample, void **bufptr, void *buflim) {
  (void)type; (void)d; (void)sample; (void)bufptr; (void)buflim;
  return true;
}

static size_t sd_print(const struct ddsi_sertype *type, const struct ddsi_serdata *dc, char *buf, size_t size) {
  (void)type;
  const struct rawcdr_serdata *d = (const struct rawcdr_serdata *)dc;
  return (size_t)snprintf(buf, size, "rawcdr(%zu bytes)", d->size);
}

static void sd_get_keyhash(const struct ddsi_serdata *d, struct ddsi_keyhash *buf, bool force_md5) {
  (void)d; (void)force_md5;
  memset(buf, 0, sizeof(*buf));
}

static const struct ddsi_serdata_ops rawcdr_serdata_ops = {
  .eqkey = sd_eqkey,
  .get_size = sd_get_size,
  .from_ser = sd_from_ser,
  .from_ser_iov = sd_from_ser_iov,
  .from_keyhash = sd_from_keyhash,
  .from_sample = sd_from_sample,
  .to_ser = sd_to_ser,
  .to_ser_ref = sd_to_ser_ref,
  .to_ser_unref = sd_to_ser_unref,
  .to_sample = sd_to_sample,
  .to_untyped = sd_to_untyped,
  .untyped_to_sample = sd_untyped_to_sample,
  .free = sd_free,
  .print = sd_print,
  .get_keyhash = sd_get_keyhash,
};

static void st_free(struct ddsi_sertype *tp) {
  ddsi_sertype_fini(tp);
  free(tp);
}

static void st_zero_samples(const struct ddsi_sertype *tp, void *samples, size_t count) {
  (void)tp;
  memset(samples, 0, count * sizeof(struct rawcdr_sample));
}

static void st_realloc_samples(void **ptrs, const struct ddsi_sertype *tp, void *old, size_t oldcount, size_t count) {
  (void)tp;
  struct rawcdr_sample *s = realloc(old, count * sizeof(*s));
  if (s != NULL && count > oldcount) memset(s + oldcount, 0, (count - oldcount) * sizeof(*s));
  for (size_t i = 0; i < count; i++) ptrs[i] = s ? &s[i] : NULL;
}

static void st_free_samples(const struct ddsi_sertype *tp, void **ptrs, size_t count, dds_free_op_t op) {
  (void)tp;
  if (count == 0 || ptrs[0] == NULL) return;
  struct rawcdr_sample *s = ptrs[0];
  if (op & DDS_FREE_CONTENTS_BIT) {
    for (size_t i = 0; i < count; i++) { free(s[i].data); s[i].data = NULL; s[i].size = 0; }
  }
  if (op & DDS_FREE_ALL_BIT) free(s);
}

static bool st_equal(const struct ddsi_sertype *a, const struct ddsi_sertype *b) {
  return strcmp(a->type_name, b->type_name) == 0;
}

static uint32_t st_hash(const struct ddsi_sertype *tp) {
  uint32_t h = 2166136261u; // FNV-1a of the type name
  for (const char *c = tp->type_name; *c; c++) { h ^= (unsigned char)*c; h *= 16777619u; }
  return h;
}

static const struct ddsi_sertype_ops rawcdr_sertype_ops = {
  .version = ddsi_sertype_v0,
  .arg = NULL,
  .free = st_free,
  .zero_samples = st_zero_samples,
  .realloc_samples = st_realloc_samples,
  .free_samples = st_free_samples,
  .equal = st_equal,
  .hash = st_hash,
};

struct ddsi_sertype *vla3d_rawcdr_sertype(const char *type_name) {
  struct ddsi_sertype *st = calloc(1, sizeof(*st));
  if (st == NULL) return NULL;
  ddsi_sertype_init(st, type_name, &rawcdr_sertype_ops, &rawcdr_serdata_ops, true);
  st->allowed_data_representation = DDS_DATA_REPRESENTATION_FLAG_XCDR1;
  return st;
}

dds_return_t vla3d_rawcdr_write(dds_entity_t writer, const struct ddsi_sertype *st, const void *buf, size_t n) {
  ddsrt_iovec_t iov = {.iov_base = (void *)buf, .iov_len = (ddsrt_iov_len_t)n};
  struct ddsi_serdata *sd = ddsi_serdata_from_ser_iov(st, SDK_DATA, 1, &iov, n);
  if (sd == NULL) return DDS_RETCODE_OUT_OF_RESOURCES;
  // dds_writecdr takes over the reference.
  return dds_writecdr(writer, sd);
}

int vla3d_rawcdr_take(dds_entity_t reader, struct ddsi_serdata **sd, const unsigned char **data, size_t *size,
                      int *valid, dds_time_t *source_stamp) {
  dds_sample_info_t info;
  *sd = NULL;
  dds_return_t n = dds_takecdr(reader, sd, 1, &info, DDS_ANY_STATE);
  if (n <= 0) return n;
  const struct rawcdr_serdata *d = (const struct rawcdr_serdata *)*sd;
  *valid = info.valid_data ? 1 : 0;
  *data = d->data;
  *size = d->size;
  *source_stamp = info.source_timestamp;
  return n;
}

void vla3d_rawcdr_release(struct ddsi_serdata *sd) {
  if (sd != NULL) ddsi_serdata_unref(sd);
}

static int describe_qos(const dds_qos_t *q, char *out, size_t n) {
  dds_reliability_kind_t rel = DDS_RELIABILITY_BEST_EFFORT;
  dds_duration_t blk;
  dds_durability_kind_t dur = DDS_DURABILITY_VOLATILE;
  dds_history_kind_t hk = DDS_HISTORY_KEEP_LAST;
  int32_t depth = 1;
  (void)dds_qget_reliability(q, &rel, &blk);
  (void)dds_qget_durability(q, &dur);
  (void)dds_qget_history(q, &hk, &depth);
  const char *durs = dur == DDS_DURABILITY_VOLATILE ? "volatile" : dur == DDS_DURABILITY_TRANSIENT_LOCAL ? "transient_local" : "transient/persistent";
  if (hk == DDS_HISTORY_KEEP_ALL)
    return snprintf(out, n, "%s/%s/keep_all", rel == DDS_RELIABILITY_RELIABLE ? "reliable" : "best_effort", durs);
  return snprintf(out, n, "%s/%s/keep_last %d", rel == DDS_RELIABILITY_RELIABLE ? "reliable" : "best_effort", durs, (int)depth);
}

int vla3d_remote_endpoints(dds_entity_t participant, int pubs, const char *topic, char *out, size_t n) {
  if (n == 0) return 0;
  out[0] = 0;
  dds_entity_t rd = dds_create_reader(participant, pubs ? DDS_BUILTIN_TOPIC_DCPSPUBLICATION : DDS_BUILTIN_TOPIC_DCPSSUBSCRIPTION, NULL, NULL);
  if (rd < 0) return 0;
  enum { MAXS = 256 };
  void *samples[MAXS] = {0};
  dds_sample_info_t infos[MAXS];
  dds_instance_handle_t own = 0;
  (void)dds_get_instance_handle(participant, &own);
  int count = 0;
  size_t used = 0;
  dds_return_t got = dds_read(rd, samples, infos, MAXS, MAXS);
  for (int i = 0; i < got && used + 1 < n; i++) {
    const dds_builtintopic_endpoint_t *e = samples[i];
    if (!infos[i].valid_data || e->topic_name == NULL || strcmp(e->topic_name, topic) != 0) continue;
    if (e->participant_instance_handle == own) continue;
    int w = snprintf(out + used, n - used, "%s|", e->type_name ? e->type_name : "");
    if (w > 0) used += (size_t)w < n - used ? (size_t)w : n - used - 1;
    if (used + 1 < n) {
      w = describe_qos(e->qos, out + used, n - used);
      if (w > 0) used += (size_t)w < n - used ? (size_t)w : n - used - 1;
    }
    if (used + 1 < n) {
      out[used++] = '\n';
      out[used] = 0;
    }
    count++;
  }
  if (got > 0) dds_return_loan(rd, samples, got);
  dds_delete(rd);
  return count;
}
