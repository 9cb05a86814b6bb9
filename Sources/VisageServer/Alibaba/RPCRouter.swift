import Foundation
import Hummingbird
import NIOCore
import VisageAccess
import VisageCore

/// One authenticated RPC call, as an operation sees it.
public struct RPCCall: Sendable {
    public let request: RPCRequest
    public let caller: Caller
    public let sourceIP: String?
    public let now: Date
    /// The id this call's response carries as `RequestId`.
    public let requestID: String

    /// A parameter, or nil when absent or empty (the SDKs send unset values as empty).
    public func optional(_ name: String) -> String? {
        guard let value = request.parameters[name], !value.isEmpty else { return nil }
        return value
    }

    /// A required parameter, or `MissingParameter`/`Missing{Name}`.
    public func required(_ name: String) throws -> String {
        guard let value = optional(name) else { throw missing(name) }
        return value
    }

    public func missing(_ name: String) -> WireError {
        WireError(status: .badRequest, code: "Missing\(name)",
                  message: "The input parameter \"\(name)\" that is mandatory for processing this request is not supplied.")
    }

    /// An optional integer parameter, refused when it is not one.
    public func integer(_ name: String) throws -> Int? {
        guard let text = optional(name) else { return nil }
        guard let value = Int(text) else {
            throw WireError(status: .badRequest, code: "InvalidParameter.\(name)", message: "\(name) must be an integer.")
        }
        return value
    }

    /// The request's condition keys: time, transport and source address.
    public var context: [String: String] { AccessRequest.standardContext(now: now, sourceIP: sourceIP) }

    /// Refuses the call unless the caller's policies allow `action` on `resource`.
    public func authorize(_ action: String, resource: String, context extra: [String: String] = [:]) throws {
        let context = self.context.merging(extra) { _, new in new }
        guard caller.decide(AccessRequest(action: action, resource: resource, context: context)) == .allow else {
            throw WireError(status: .forbidden, code: "NoPermission",
                            message: "You are not authorized to do this action: \(action) on \(resource) is not allowed for \(caller.arn).")
        }
    }
}

/// Dispatches Alibaba Cloud RPC calls at `/` to the operation registered for their
/// (Version, Action) pair, after checking the signature. Each product (STS, RAM, IMM) registers
/// its operations here.
public struct RPCRouter: Sendable {
    /// Handles one call and returns the JSON object of a successful response (without `RequestId`).
    public typealias Operation = @Sendable (RPCCall) async throws -> [String: any Sendable]

    private var operations: [String: Operation] = [:]
    let maxBodyBytes: Int
    let access: AccessServices

    public init(maxBodyBytes: Int, access: AccessServices) {
        self.maxBodyBytes = maxBodyBytes
        self.access = access
    }

    public mutating func register(version: String, action: String, _ operation: @escaping Operation) {
        operations["\(version) \(action)"] = operation
    }

    /// Registers a product's operations, each a method of `product`; core failures they throw
    /// are named by the product's own `errors`.
    mutating func register<Product: Sendable>(
        version: String, _ product: Product,
        _ table: [(String, @Sendable (Product, RPCCall) async throws -> [String: any Sendable])],
        errors: @escaping @Sendable (VisageError) -> WireError
    ) {
        for (action, handler) in table {
            register(version: version, action: action) { call in
                do {
                    return try await handler(product, call)
                } catch let error as VisageError {
                    throw errors(error)
                }
            }
        }
    }

    func respond(to request: Request, context: VisageContext) async throws -> Response {
        let call = try await RPCRequest.read(request, maxBodyBytes: maxBodyBytes)
        context.coreContext.endpointPath.value = "rpc:\(call.action)"
        guard let operation = operations["\(call.version) \(call.action)"] else {
            context.coreContext.endpointPath.value = "rpc:unknown"
            throw WireError(status: .notFound, code: "InvalidAction.NotFound",
                            message: "Specified api is not found, please check your url and method.")
        }
        let signature = try call.signature()
        let caller = try await access.authenticate(
            accessKeyID: signature.accessKeyID, securityToken: signature.securityToken, signedAt: signature.timestamp,
            nonce: signature.nonce, matches: signature.matches, failure: AlibabaRPCDialect.gatewayError)
        var body = try await operation(RPCCall(request: call, caller: caller, sourceIP: context.remoteAddress, now: access.now(),
                                                 requestID: context.requestID))
        body["RequestId"] = context.requestID
        let data = try ResponseJSON.data(body)
        return Response(status: .ok, headers: [.contentType: "application/json;charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
