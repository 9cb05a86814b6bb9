// A C surface over the few FAISS calls Visage needs. Debian's libfaiss-dev ships the C API's
// headers but not its compiled library (only libfaiss.a, C++), so these wrappers are compiled here.
#ifndef VISAGE_FAISS_H
#define VISAGE_FAISS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct visage_faiss_index visage_faiss_index;

/// A new empty index of `dimension`-d vectors under L2 distance with caller-chosen 64-bit ids:
/// exact (flat) when `inverted_lists` is 0, otherwise an inverted-file index over that many
/// k-means cells (IVF-Flat), which must be trained before vectors are added.
int visage_faiss_new(int dimension, int inverted_lists, visage_faiss_index **out, char *error, size_t error_size);
/// 1 when the index can take vectors (flat, or trained).
int visage_faiss_is_trained(const visage_faiss_index *index);
/// Learns the cells from `count` sample vectors (row-major).
int visage_faiss_train(visage_faiss_index *index, int64_t count, const float *vectors, char *error, size_t error_size);
/// Reads an index written by `visage_faiss_write`.
int visage_faiss_read(const char *path, visage_faiss_index **out, char *error, size_t error_size);
/// Writes the index to `path` (the caller renames it into place).
int visage_faiss_write(const visage_faiss_index *index, const char *path, char *error, size_t error_size);
void visage_faiss_free(visage_faiss_index *index);

int visage_faiss_dimension(const visage_faiss_index *index);
int64_t visage_faiss_count(const visage_faiss_index *index);
/// 1 when the index is approximate (inverted file), 0 when exact.
int visage_faiss_is_approximate(const visage_faiss_index *index);
/// Copies the ids of the stored vectors (count of them) into `ids`.
void visage_faiss_ids(const visage_faiss_index *index, int64_t *ids);

/// Adds `count` vectors (row-major) with their ids.
int visage_faiss_add(visage_faiss_index *index, int64_t count, const float *vectors, const int64_t *ids,
                     char *error, size_t error_size);
/// The `k` nearest stored vectors of each of `count` queries: ids (-1 where fewer exist) and
/// squared L2 distances, row-major `count` × `k`. `search_depth` is the number of cells an
/// inverted-file index visits (nprobe; ignored when exact).
int visage_faiss_search(const visage_faiss_index *index, int64_t count, const float *queries, int k, int search_depth,
                        int64_t *ids, float *distances, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
