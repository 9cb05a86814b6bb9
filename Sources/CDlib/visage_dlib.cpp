// dlib behind a C interface. The network definition below is the published architecture of
// dlib_face_recognition_resnet_model_v1 (a ResNet-34 variant with 150×150 input); the weights file
// must be deserialized into exactly this type.
#include "visage_dlib.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <exception>
#include <vector>

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_transforms.h>

namespace visage {

// A read-only view of caller-owned RGB pixels, so dlib reads them without a copy. dlib finds
// the accessors below by argument-dependent lookup (its generic image interface).
struct rgb_view {
    const unsigned char *data;
    long rows;
    long columns;
};

inline long num_rows(const rgb_view &view) { return view.rows; }
inline long num_columns(const rgb_view &view) { return view.columns; }
inline const void *image_data(const rgb_view &view) { return view.data; }
inline long width_step(const rgb_view &view) { return view.columns * 3; }

}  // namespace visage

namespace dlib {
template <> struct image_traits<visage::rgb_view> { typedef rgb_pixel pixel_type; };
}  // namespace dlib

namespace {

using namespace dlib;

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;

template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

using face_net = loss_metric<fc_no_bias<128, avg_pool_everything<alevel0<alevel1<alevel2<alevel3<alevel4<
    max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<150>>>>>>>>>>>>>;

void describe(const std::exception &failure, char *error, size_t error_size) {
    if (error && error_size) std::snprintf(error, error_size, "%s", failure.what());
}

}  // namespace

struct visage_dlib_landmarker { shape_predictor model; };
struct visage_dlib_embedder { face_net model; };

namespace {

// Deserializes a dlib model file into a new holder of type T (with a `model` member).
template <typename T> int load(const char *path, T **out, char *error, size_t error_size) {
    try {
        auto *holder = new T;
        try {
            deserialize(path) >> holder->model;
        } catch (...) {
            delete holder;
            throw;
        }
        *out = holder;
        return 0;
    } catch (const std::exception &failure) {
        describe(failure, error, error_size);
        return -1;
    }
}

}  // namespace

extern "C" int visage_dlib_landmarker_load(const char *path, visage_dlib_landmarker **out, char *error,
                                           size_t error_size) {
    return load(path, out, error, error_size);
}

extern "C" void visage_dlib_landmarker_free(visage_dlib_landmarker *landmarker) { delete landmarker; }

extern "C" int visage_dlib_landmarks(const visage_dlib_landmarker *landmarker, const uint8_t *rgb, long width,
                                     long height, long left, long top, long right, long bottom, double *points) {
    try {
        const visage::rgb_view image{rgb, height, width};
        const full_object_detection shape = landmarker->model(image, rectangle(left, top, right, bottom));
        for (unsigned long i = 0; i < shape.num_parts(); ++i) {
            points[2 * i] = shape.part(i).x();
            points[2 * i + 1] = shape.part(i).y();
        }
        return static_cast<int>(shape.num_parts());
    } catch (const std::exception &) {
        return -1;
    }
}

extern "C" int visage_dlib_embedder_load(const char *path, visage_dlib_embedder **out, char *error,
                                         size_t error_size) {
    return load(path, out, error, error_size);
}

extern "C" void visage_dlib_embedder_free(visage_dlib_embedder *embedder) { delete embedder; }

extern "C" int visage_dlib_chip(const uint8_t *rgb, long width, long height, const double *points, size_t point_count,
                                uint8_t *chip, uint8_t *mirror) {
    try {
        const visage::rgb_view image{rgb, height, width};
        std::vector<point> parts;
        parts.reserve(point_count);
        for (size_t i = 0; i < point_count; ++i) parts.emplace_back(std::lround(points[2 * i]), std::lround(points[2 * i + 1]));
        rectangle bounds;
        for (const auto &part : parts) bounds += part;
        const full_object_detection shape(bounds, parts);
        matrix<rgb_pixel> cut;
        extract_image_chip(image, get_face_chip_details(shape, visage_dlib_chip_size, 0.25), cut);
        const size_t bytes = static_cast<size_t>(visage_dlib_chip_size) * visage_dlib_chip_size * 3;
        std::memcpy(chip, &cut(0, 0), bytes);
        if (mirror) {
            const matrix<rgb_pixel> flipped = fliplr(cut);
            std::memcpy(mirror, &flipped(0, 0), bytes);
        }
        return 0;
    } catch (const std::exception &) {
        return -1;
    }
}

extern "C" int visage_dlib_embed_chips(visage_dlib_embedder *embedder, const uint8_t *chips, size_t count, float *descriptors,
                                       char *error, size_t error_size) {
    try {
        const size_t side = visage_dlib_chip_size;
        std::vector<matrix<rgb_pixel>> batch(count);
        for (size_t i = 0; i < count; ++i) {
            batch[i].set_size(side, side);
            std::memcpy(&batch[i](0, 0), chips + i * side * side * 3, side * side * 3);
        }
        const std::vector<matrix<float, 0, 1>> results = embedder->model(batch);
        for (size_t i = 0; i < count; ++i)
            for (long j = 0; j < results[i].size(); ++j) descriptors[i * 128 + j] = results[i](j);
        return 0;
    } catch (const std::exception &failure) {
        describe(failure, error, error_size);
        return -1;
    }
}

extern "C" int visage_dlib_embedder_write_xml(const visage_dlib_embedder *embedder, const char *path, char *error,
                                              size_t error_size) {
    try {
        std::ofstream out(path);
        net_to_xml(embedder->model, out);
        out.close();
        if (!out) throw std::runtime_error(std::string("cannot write ") + path);
        return 0;
    } catch (const std::exception &failure) {
        describe(failure, error, error_size);
        return -1;
    }
}
