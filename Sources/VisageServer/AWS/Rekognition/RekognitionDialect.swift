import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageAccess

/// Amazon Rekognition over AWS JSON 1.1: `POST /` marked by `X-Amz-Target:
/// RekognitionService.<Operation>`, signed with SigV4 for service `rekognition` in any region,
/// with Visage's access keys or temporary credentials. Offers `DetectModerationLabels`.
struct RekognitionDialect: Dialect {
    let moderation: DetectModerationLabels
    let access: AccessServices
    let maxBodyBytes: Int
    let name = "rekognition"
    let recognition = Recognition(header: .amzTarget)
    static let targetPrefix = "RekognitionService."
    static let service = "rekognition"

    /// The operations offered and the policy action each needs.
    enum Operation: String {
        case detectModerationLabels = "DetectModerationLabels"

        var policyAction: String { "rekognition:\(rawValue)" }
    }

    func respond(to request: Request, context: VisageContext,
                 next: (Request, VisageContext) async throws -> Response) async throws -> Response {
        let target = request.headers[.amzTarget] ?? ""
        guard target.hasPrefix(Self.targetPrefix), let operation = Operation(rawValue: String(target.dropFirst(Self.targetPrefix.count)))
        else {
            context.coreContext.endpointPath.value = "rekognition:unknown"
            throw RekognitionError.unknownOperation(target)
        }
        context.coreContext.endpointPath.value = "rekognition:\(operation.rawValue)"
        guard request.method == .post, request.uri.path == "/" else {
            throw WireError(status: .badRequest, code: "UnknownOperationException", message: "AWS JSON 1.1 requests are POST /.")
        }
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let signature: AWSJSONSignature
        do {
            signature = try AWSJSONSignature.read(request, body: body, service: Self.service)
        } catch {
            throw RekognitionError.signature(error)
        }
        let caller = try await authenticate(access, accessKeyID: signature.accessKeyID, securityToken: signature.securityToken,
                                            signedAt: signature.signedAt, nonce: nil, matches: signature.matches)
        let resource = "acs:rekognition:\(signature.scope.region):\(caller.accountID):*"
        let decision = caller.decide(AccessRequest(action: operation.policyAction, resource: resource,
                                                   context: AccessRequest.standardContext(now: access.now(), sourceIP: context.remoteAddress)))
        guard decision == .allow else {
            throw RekognitionError.accessDenied(
                "User: \(caller.arn) is not authorized to perform: \(operation.policyAction) on resource: \(resource)")
        }
        let call = RekognitionCall(request: request, caller: caller, body: body, region: signature.scope.region,
                                   sourceIP: context.remoteAddress, requestID: context.requestID)
        let data: Data
        switch operation {
        case .detectModerationLabels: data = try JSONEncoder.awsJSON.encode(try await moderation.perform(call))
        }
        return Response(status: .ok, headers: [.contentType: "application/x-amz-json-1.1", .amznRequestID: context.requestID],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func wireError(_ error: any Error) -> WireError { RekognitionError.wire(error) }

    func authenticationError(_ problem: AuthenticationProblem) -> WireError { RekognitionError.authentication(problem) }

    /// `{"__type": code, "message": text}` with the request id header botocore reads.
    func render(_ error: WireError, for request: Request, requestID: String) -> Response {
        ErrorBody.json(["__type": error.code, "message": error.message], status: error.status,
                       headers: [.contentType: "application/x-amz-json-1.1", .amznRequestID: requestID])
    }
}

/// One authenticated Rekognition call.
struct RekognitionCall: Sendable {
    let request: Request
    let caller: Caller
    let body: [UInt8]
    /// The region the request was signed for: ARNs of what it creates name it.
    let region: String
    let sourceIP: String?
    let requestID: String
}

extension JSONEncoder {
    /// AWS JSON answers, keys in a fixed order so answers compare byte for byte.
    static var awsJSON: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension HTTPField.Name {
    static let amzTarget = HTTPField.Name("X-Amz-Target")!
    static let amznRequestID = HTTPField.Name("x-amzn-RequestId")!
}
