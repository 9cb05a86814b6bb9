import COpenVINO
import Foundation
import VisageCore

/// A failure of the inference runtime.
public struct InferenceError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// A float tensor: its shape and values in row-major order.
public struct Tensor: Sendable {
    public let shape: [Int]
    public let values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "values do not match the shape")
        self.shape = shape
        self.values = values
    }

    public subscript(_ index: Int...) -> Float {
        var offset = 0
        for (axis, value) in index.enumerated() { offset = offset * shape[axis] + value }
        return values[offset]
    }
}

/// A model compiled once for the CPU through the OpenVINO C API, with a pool of infer requests
/// so several inferences run at once (up to `concurrency`). Inference blocks its thread, so it
/// runs on a dedicated dispatch queue rather than on Swift's cooperative threads.
public final class InferenceModel: Sendable {
    public let path: String
    private let handle: NativeHandle
    private let requests: ExclusivePool

    /// Loads and compiles `path` (ONNX or OpenVINO IR). `dynamicSpatial` lets an image model take
    /// any input height and width. `streams` above 1 runs that many inferences side by side, the
    /// threads shared among them: more inferences a second under concurrent load, each alone
    /// slower (CenterFace on a small photo: 8.5 ms each with two in flight against 12, 16.6 alone).
    public init(path: String, threads: Int = 0, concurrency: Int = 2, streams: Int = 1, dynamicSpatial: Bool = false) throws {
        self.path = path
        var model: OpaquePointer?
        var error = [CChar](repeating: 0, count: 512)
        guard visage_ov_load(path, Int32(threads), Int32(streams), dynamicSpatial ? 1 : 0, &model, &error, error.count) == 0,
              let model else {
            throw InferenceError(description: "cannot load \(path): \(cText(error))")
        }
        handle = NativeHandle(model, free: visage_ov_free)
        var pool: [NativeHandle] = []
        for _ in 0..<max(1, concurrency) {
            var request: OpaquePointer?
            guard visage_ov_request_create(model, &request, &error, error.count) == 0, let request else {
                throw InferenceError(description: cText(error))
            }
            pool.append(NativeHandle(request, free: visage_ov_request_free))
        }
        requests = ExclusivePool(pool)
    }

    /// Runs the model on one input and returns every output.
    public func run(input: [Float], shape: [Int]) async throws -> [Tensor] {
        try await Blocking.run { try self.runBlocking(input: input, shape: shape) }
    }

    /// The same, on the calling thread.
    public func runBlocking(input: [Float], shape: [Int]) throws -> [Tensor] {
        precondition(shape.reduce(1, *) == input.count, "input does not match its shape")
        return try requests.withItem { request in try infer(request, input: input, shape: shape) }
    }

    private func infer(_ request: NativeHandle, input: [Float], shape: [Int]) throws -> [Tensor] {
        var error = [CChar](repeating: 0, count: 512)
        var input = input
        let dims = shape.map(Int64.init)
        let status = input.withUnsafeMutableBufferPointer { buffer in
            visage_ov_infer(request.pointer, buffer.baseAddress, dims, dims.count, &error, error.count)
        }
        guard status == 0 else { throw InferenceError(description: cText(error)) }
        var outputs: [Tensor] = []
        for index in 0..<visage_ov_output_count(handle.pointer) {
            var data: UnsafePointer<Float>?
            var outDims = [Int64](repeating: 0, count: 8)
            var rank = 0
            guard visage_ov_output(request.pointer, index, &data, &outDims, &rank, &error, error.count) == 0, let data else {
                throw InferenceError(description: cText(error))
            }
            let outShape = outDims.prefix(rank).map(Int.init)
            outputs.append(Tensor(shape: outShape, values: Array(UnsafeBufferPointer(start: data, count: outShape.reduce(1, *)))))
        }
        return outputs
    }
}
