import Foundation
import Hummingbird
import NIOCore

/// Dispatches Alibaba Cloud RPC calls at `/` to the operation registered for their
/// (Version, Action) pair. Each product (STS, RAM, IMM) registers its operations here.
public struct RPCRouter: Sendable {
    /// Handles one call and returns the JSON object of a successful response (without `RequestId`).
    public typealias Operation = @Sendable (RPCRequest, VisageContext) async throws -> [String: any Sendable]

    private var operations: [String: Operation] = [:]
    let maxBodyBytes: Int

    public init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    public mutating func register(version: String, action: String, _ operation: @escaping Operation) {
        operations["\(version) \(action)"] = operation
    }

    func respond(to request: Request, context: VisageContext) async throws -> Response {
        let call = try await RPCRequest.read(request, maxBodyBytes: maxBodyBytes)
        context.coreContext.endpointPath.value = "rpc:\(call.action)"
        guard let operation = operations["\(call.version) \(call.action)"] else {
            context.coreContext.endpointPath.value = "rpc:unknown"
            throw WireError(status: .notFound, code: "InvalidAction.NotFound",
                            message: "Specified api is not found, please check your url and method.")
        }
        var body = try await operation(call, context)
        body["RequestId"] = context.requestID
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(status: .ok, headers: [.contentType: "application/json;charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
