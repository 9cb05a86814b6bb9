import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageAccess
import VisageMedia
import VisageStore

/// The Amazon A2I runtime API (REST-JSON, SigV4 service `sagemaker`) over Visage's human reviews:
/// `DescribeHumanLoop` (`GET /human-loops/NAME`) and `ListHumanLoops` (`GET /human-loops`), so
/// code that started a review through DetectModerationLabels reads its outcome as it would from
/// AWS. Requests are told apart from S3's (which shares SigV4) by the path and the signing service.
struct HumanLoopRuntimeDialect: Dialect {
    let reviews: ModerationReviews
    let access: AccessServices
    let outputs: HumanLoopOutputs
    let name = "a2i-runtime"
    static let service = "sagemaker"
    static let prefix = "human-loops"
    let recognition = Recognition(claims: { head in
        head.firstSegment == HumanLoopRuntimeDialect.prefix
            && head.headers[.authorization]?.contains("/\(HumanLoopRuntimeDialect.service)/aws4_request") == true
    })

    init(reviews: ModerationReviews, access: AccessServices, objects: any ObjectStore, outputBucket: String) {
        self.reviews = reviews
        self.access = access
        self.outputs = HumanLoopOutputs(objects: objects, bucket: outputBucket)
    }

    struct Summary: Encodable {
        let HumanLoopName: String
        let HumanLoopStatus: String
        let CreationTime: Double
        let FlowDefinitionArn: String
    }

    struct Description: Encodable {
        struct Output: Encodable {
            let OutputS3Uri: String
        }

        let CreationTime: Double
        let HumanLoopStatus: String
        let HumanLoopName: String
        let HumanLoopArn: String
        let FlowDefinitionArn: String
        let HumanLoopOutput: Output?
    }

    struct Page: Encodable {
        let HumanLoopSummaries: [Summary]
        let NextToken: String?
    }

    func respond(to request: Request, context: VisageContext,
                 next: (Request, VisageContext) async throws -> Response) async throws -> Response {
        let (_, rest) = RequestHead.segments(of: request.uri.path)
        let operation = rest == nil ? "ListHumanLoops" : "DescribeHumanLoop"
        context.coreContext.endpointPath.value = "a2i:\(operation)"
        guard request.method == .get else {
            throw WireError(status: .badRequest, code: "ValidationException", message: "This server offers DescribeHumanLoop and ListHumanLoops (GET) only.")
        }
        let signature: AWSJSONSignature
        do {
            signature = try AWSJSONSignature.read(request, body: [], service: Self.service)
        } catch {
            throw RekognitionError.signature(error)
        }
        let caller = try await authenticate(access, accessKeyID: signature.accessKeyID, securityToken: signature.securityToken,
                                            signedAt: signature.signedAt, nonce: nil, matches: signature.matches)
        let resource = "acs:sagemaker:\(signature.scope.region):\(caller.accountID):*"
        let action = "sagemaker:\(operation)"
        guard caller.decide(AccessRequest(action: action, resource: resource,
                                          context: AccessRequest.standardContext(now: access.now(), sourceIP: context.remoteAddress))) == .allow
        else {
            throw WireError(status: .forbidden, code: "AccessDeniedException",
                            message: "User: \(caller.arn) is not authorized to perform: \(action) on resource: \(resource)")
        }
        let data: Data
        if let rest {
            let name = rest.removingPercentEncoding ?? rest
            guard let review = try await reviews.review(name: name, accountID: caller.accountID) else {
                throw WireError(status: .notFound, code: "ResourceNotFoundException", message: "No human loop named \(name) in this account.")
            }
            let output = await outputs.existing(review)
            data = try JSONEncoder.awsJSON.encode(Description(
                CreationTime: review.created.timeIntervalSince1970, HumanLoopStatus: Self.status(review), HumanLoopName: review.name,
                HumanLoopArn: HumanLoopActivation.arn(region: review.reference, accountID: review.accountID, name: review.name),
                FlowDefinitionArn: review.flow, HumanLoopOutput: output.map(Description.Output.init)))
        } else {
            data = try JSONEncoder.awsJSON.encode(try await list(request, accountID: caller.accountID))
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .amznRequestID: context.requestID],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// One page of the account's reviews of a workflow; the next token is the offset of the next page.
    func list(_ request: Request, accountID: String) async throws -> Page {
        let query = Dictionary(FormEncoding.decode(request.uri.query ?? ""), uniquingKeysWith: { a, _ in a })
        guard let flow = query["FlowDefinitionArn"], !flow.isEmpty else {
            throw WireError(status: .badRequest, code: "ValidationException", message: "FlowDefinitionArn is required.")
        }
        let limit = try query["MaxResults"].map { text -> Int in
            guard let value = Int(text), (1...100).contains(value) else {
                throw WireError(status: .badRequest, code: "ValidationException", message: "MaxResults must be from 1 to 100.")
            }
            return value
        } ?? 100
        let offset = try query["NextToken"].map { text -> Int in
            guard let value = Int(text), value >= 0 else {
                throw WireError(status: .badRequest, code: "ValidationException", message: "NextToken is not one this server gave.")
            }
            return value
        } ?? 0
        let sort = query["SortOrder"] ?? "Descending"
        guard sort == "Ascending" || sort == "Descending" else {
            throw WireError(status: .badRequest, code: "ValidationException", message: "SortOrder must be Ascending or Descending.")
        }
        let found = try await reviews.list(accountID: accountID, flow: flow, createdAfter: try Self.time(query["CreationTimeAfter"]),
                                           createdBefore: try Self.time(query["CreationTimeBefore"]), ascending: sort == "Ascending",
                                           offset: offset, limit: limit + 1)
        return Page(HumanLoopSummaries: found.prefix(limit).map {
            Summary(HumanLoopName: $0.name, HumanLoopStatus: Self.status($0), CreationTime: $0.created.timeIntervalSince1970,
                    FlowDefinitionArn: $0.flow)
        }, NextToken: found.count > limit ? String(offset + limit) : nil)
    }

    static func status(_ review: ModerationReview) -> String {
        switch review.status {
        case .pending: "InProgress"
        case .completed: "Completed"
        }
    }

    /// An ISO 8601 time as botocore sends it (`2026-12-05T09:30:00Z`), or a date alone.
    static func time(_ text: String?) throws -> Date? {
        guard let text else { return nil }
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        if let date = day.date(from: text) { return date }
        throw WireError(status: .badRequest, code: "ValidationException", message: "\(text) is not an ISO 8601 time.")
    }

    func wireError(_ error: any Error) -> WireError {
        let wire = WireError(error)
        return wire.status.code >= 500 ? WireError(status: .internalServerError, code: "InternalServerException", message: wire.message) : wire
    }

    func authenticationError(_ problem: AuthenticationProblem) -> WireError { RekognitionError.authentication(problem) }

    /// REST-JSON errors: `{"message": …}` with the code in `x-amzn-ErrorType` and `__type`.
    func render(_ error: WireError, for request: Request, requestID: String) -> Response {
        ErrorBody.json(["__type": error.code, "message": error.message], status: error.status,
                       headers: [.contentType: "application/json", .amznRequestID: requestID,
                                 HTTPField.Name("x-amzn-ErrorType")!: error.code])
    }
}
