#include "visage_faiss.h"

#include <faiss/IndexFlat.h>
#include <faiss/index_factory.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

struct visage_faiss_index {
    std::unique_ptr<faiss::IndexIDMap> map;
};

static int fail(const std::exception &e, char *error, size_t size) {
    if (error && size) std::snprintf(error, size, "%s", e.what());
    return 1;
}

extern "C" int visage_faiss_new(int dimension, int inverted_lists, visage_faiss_index **out, char *error, size_t error_size) {
    try {
        // The inverted file is built through the factory, from its textual description, the
        // form FAISS documents for choosing an index.
        std::string description = "IVF" + std::to_string(inverted_lists) + ",Flat";
        faiss::Index *inner = inverted_lists > 0 ? faiss::index_factory(dimension, description.c_str(), faiss::METRIC_L2)
                                                 : static_cast<faiss::Index *>(new faiss::IndexFlatL2(dimension));
        // Ten k-means rounds place the cells well enough for a search that visits several of
        // them, at less than half the default's training time.
        if (auto *ivf = dynamic_cast<faiss::IndexIVF *>(inner)) ivf->cp.niter = 10;
        auto map = std::make_unique<faiss::IndexIDMap>(inner);
        map->own_fields = true;
        *out = new visage_faiss_index{std::move(map)};
        return 0;
    } catch (const std::exception &e) { return fail(e, error, error_size); }
}

extern "C" int visage_faiss_is_trained(const visage_faiss_index *index) { return index->map->index->is_trained; }

extern "C" int visage_faiss_train(visage_faiss_index *index, int64_t count, const float *vectors, char *error, size_t error_size) {
    try {
        index->map->index->train(count, vectors);
        index->map->is_trained = index->map->index->is_trained;
        return 0;
    } catch (const std::exception &e) { return fail(e, error, error_size); }
}

extern "C" int visage_faiss_read(const char *path, visage_faiss_index **out, char *error, size_t error_size) {
    try {
        std::unique_ptr<faiss::Index> read(faiss::read_index(path));
        auto *map = dynamic_cast<faiss::IndexIDMap *>(read.get());
        if (!map) {
            if (error && error_size) std::snprintf(error, error_size, "%s holds no id-mapped index", path);
            return 1;
        }
        read.release();
        *out = new visage_faiss_index{std::unique_ptr<faiss::IndexIDMap>(map)};
        return 0;
    } catch (const std::exception &e) { return fail(e, error, error_size); }
}

extern "C" int visage_faiss_write(const visage_faiss_index *index, const char *path, char *error, size_t error_size) {
    try {
        faiss::write_index(index->map.get(), path);
        return 0;
    } catch (const std::exception &e) { return fail(e, error, error_size); }
}

extern "C" void visage_faiss_free(visage_faiss_index *index) { delete index; }

extern "C" int visage_faiss_dimension(const visage_faiss_index *index) { return index->map->d; }

extern "C" int64_t visage_faiss_count(const visage_faiss_index *index) { return index->map->ntotal; }

extern "C" int visage_faiss_is_approximate(const visage_faiss_index *index) {
    return dynamic_cast<const faiss::IndexFlat *>(index->map->index) == nullptr;
}

extern "C" void visage_faiss_ids(const visage_faiss_index *index, int64_t *ids) {
    const auto &map = index->map->id_map;
    for (size_t i = 0; i < map.size(); i++) ids[i] = map[i];
}

extern "C" int visage_faiss_add(visage_faiss_index *index, int64_t count, const float *vectors, const int64_t *ids,
                                char *error, size_t error_size) {
    try {
        index->map->add_with_ids(count, vectors, ids);
        return 0;
    } catch (const std::exception &e) { return fail(e, error, error_size); }
}

// The Fortran BLAS entry point every BLAS build exports (FAISS itself calls it).
extern "C" int sgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k, const float *alpha,
                      const float *a, const int *lda, const float *b, const int *ldb, const float *beta, float *c,
                      const int *ldc);

// An inverted-file search done a cell at a time: each query's nearest cells are found as usual,
// then every cell is compared with all the queries that visit it in one BLAS product. FAISS's
// own scan compares a query with one stored vector at a time in a scalar loop (Debian's build
// is generic, without its SIMD paths), and its small parallel regions spin more than they work
// on two cores; this is several times faster, most of all when every stored vector asks.
static void searchByCell(const faiss::IndexIVFFlat &ivf, const std::vector<faiss::Index::idx_t> &external, int64_t count,
                         const float *queries, int k, size_t probes, int64_t *ids, float *distances) {
    const int d = static_cast<int>(ivf.d);
    probes = std::min<size_t>(probes, ivf.nlist);
    std::vector<float> coarseDistances(count * probes);
    std::vector<faiss::Index::idx_t> coarse(count * probes);
    ivf.quantizer->search(count, queries, probes, coarseDistances.data(), coarse.data());
    std::vector<std::vector<int64_t>> visitors(ivf.nlist);
    for (int64_t q = 0; q < count; q++) {
        for (size_t p = 0; p < probes; p++) {
            if (coarse[q * probes + p] >= 0) visitors[coarse[q * probes + p]].push_back(q);
        }
    }
    std::vector<float> queryNorms(count);
    for (int64_t q = 0; q < count; q++) {
        float sum = 0;
        for (int j = 0; j < d; j++) sum += queries[q * d + j] * queries[q * d + j];
        queryNorms[q] = sum;
    }
    // Per query, a max-heap of its best (squared distance, id) so far.
    using Match = std::pair<float, int64_t>;
    std::vector<Match> best(static_cast<size_t>(count) * k);
    std::vector<int> filled(count, 0);
    std::vector<float> block, norms, products;
    for (size_t list = 0; list < ivf.nlist; list++) {
        const auto &asking = visitors[list];
        const int size = static_cast<int>(ivf.invlists->list_size(list));
        if (asking.empty() || size == 0) continue;
        faiss::InvertedLists::ScopedCodes codes(ivf.invlists, list);
        faiss::InvertedLists::ScopedIds stored(ivf.invlists, list);
        const float *vectors = reinterpret_cast<const float *>(codes.get());
        const int n = static_cast<int>(asking.size());
        block.resize(static_cast<size_t>(n) * d);
        for (int i = 0; i < n; i++) std::copy(queries + asking[i] * d, queries + (asking[i] + 1) * d, block.begin() + i * d);
        norms.resize(size);
        for (int i = 0; i < size; i++) {
            float sum = 0;
            for (int j = 0; j < d; j++) sum += vectors[i * d + j] * vectors[i * d + j];
            norms[i] = sum;
        }
        // products[i * size + j] = <query asking[i], stored vector j> (column-major size × n).
        products.resize(static_cast<size_t>(n) * size);
        const float one = 1, zero = 0;
        sgemm_("T", "N", &size, &n, &d, &one, vectors, &d, block.data(), &d, &zero, products.data(), &size);
        for (int i = 0; i < n; i++) {
            const int64_t q = asking[i];
            Match *heap = best.data() + q * k;
            int &used = filled[q];
            for (int j = 0; j < size; j++) {
                const Match match{std::max(0.0f, queryNorms[q] + norms[j] - 2 * products[static_cast<size_t>(i) * size + j]),
                                  external[stored.get()[j]]};
                if (used < k) {
                    heap[used++] = match;
                    std::push_heap(heap, heap + used);
                } else if (match < heap[0]) {
                    std::pop_heap(heap, heap + k);
                    heap[k - 1] = match;
                    std::push_heap(heap, heap + k);
                }
            }
        }
    }
    for (int64_t q = 0; q < count; q++) {
        Match *heap = best.data() + q * k;
        std::sort(heap, heap + filled[q]);
        for (int j = 0; j < k; j++) {
            ids[q * k + j] = j < filled[q] ? heap[j].second : -1;
            distances[q * k + j] = j < filled[q] ? heap[j].first : 0;
        }
    }
}

extern "C" int visage_faiss_search(const visage_faiss_index *index, int64_t count, const float *queries, int k,
                                   int search_depth, int64_t *ids, float *distances, char *error, size_t error_size) {
    try {
        if (const auto *ivf = dynamic_cast<const faiss::IndexIVFFlat *>(index->map->index)) {
            searchByCell(*ivf, index->map->id_map, count, queries, k, search_depth > 0 ? search_depth : 1, ids, distances);
        } else {
            index->map->search(count, queries, k, distances, ids);
        }
        return 0;
    } catch (const std::exception &e) { return fail(e, error, error_size); }
}
