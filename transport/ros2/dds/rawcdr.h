// rawcdr.h — a Cyclone DDS sertype whose samples are opaque CDR byte
// strings (encapsulation header included), as rmw_cyclonedds's serdata is
// for serialized messages: Go encodes and decodes the bytes, Cyclone only
// moves them.
#ifndef VLA3D_RAWCDR_H
#define VLA3D_RAWCDR_H

#include <stddef.h>
#include <stdint.h>
#include "dds/dds.h"

// vla3d_rawcdr_sertype returns a new keyless sertype named type_name
// (pkg::msg::dds_::Name_); dds_create_topic_sertype takes ownership.
struct ddsi_sertype *vla3d_rawcdr_sertype(const char *type_name);

// vla3d_rawcdr_write copies n bytes of CDR into a serdata of st (the
// writer's topic's sertype) and writes it, stamped now.
dds_return_t vla3d_rawcdr_write(dds_entity_t writer, const struct ddsi_sertype *st, const void *buf, size_t n);

// vla3d_rawcdr_take takes one sample; on a valid sample *data/*size point
// into *sd, which the caller releases with vla3d_rawcdr_release.
// Returns the number of samples taken (0 or 1) or a negative error.
int vla3d_rawcdr_take(dds_entity_t reader, struct ddsi_serdata **sd, const unsigned char **data, size_t *size,
                      int *valid, dds_time_t *source_stamp);
void vla3d_rawcdr_release(struct ddsi_serdata *sd);

// vla3d_remote_endpoints writes into out (NUL-terminated, at most n
// bytes) one line "type_name|reliability/durability/history" per
// discovered remote writer (pubs != 0) or reader on topic, and returns how
// many it described.
int vla3d_remote_endpoints(dds_entity_t participant, int pubs, const char *topic, char *out, size_t n);

#endif
