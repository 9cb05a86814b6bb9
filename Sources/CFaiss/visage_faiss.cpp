#include "visage_faiss.h"

#include <faiss/IndexFlat.h>
#include <faiss/AutoTune.h>
#include <faiss/index_factory.h>
#include <faiss/IndexIDMap.h>
#include <faiss/index_io.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>

struct visage_faiss_index {
    std::unique_ptr<faiss::IndexIDMap> map;
};

static int fail(const std::exception &e, char *error, size_t size) {
    if (error && size) std::snprintf(error, size, "%s", e.what());
    return 1;
}

extern "C" int visage_faiss_new(int dimension, int inverted_lists, visage_faiss_index **out, char *error, size_t error_size) {
    try {
        // Approximate indexes are built through the factory: their own headers need OpenMP's
        // omp.h, which the Swift toolchain's clang does not ship.
        std::string description = "IVF" + std::to_string(inverted_lists) + ",Flat";
        faiss::Index *inner = inverted_lists > 0 ? faiss::index_factory(dimension, description.c_str(), faiss::METRIC_L2)
                                                 : static_cast<faiss::Index *>(new faiss::IndexFlatL2(dimension));
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

extern "C" int visage_faiss_search(const visage_faiss_index *index, int64_t count, const float *queries, int k,
                                   int search_depth, int64_t *ids, float *distances, char *error, size_t error_size) {
    try {
        // The search depth lives on the index; one index is searched by one caller at a time.
        if (!dynamic_cast<faiss::IndexFlat *>(index->map->index)) {
            faiss::ParameterSpace().set_index_parameter(index->map->index, "nprobe", search_depth > 0 ? search_depth : 1);
        }
        index->map->search(count, queries, k, distances, ids);
        return 0;
    } catch (const std::exception &e) { return fail(e, error, error_size); }
}
