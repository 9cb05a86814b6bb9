import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import VisageAccess
import VisageCore
import VisageServer
import VisageStore
import VisageTestSupport

/// Runs a real server on a free loopback port with a fresh store, with the built-in dialects and
/// any `extra` made from the server's components.
func withLiveServer(_ engine: TestEngine, extra: @Sendable (ServerComponents) -> [any Dialect] = { _ in [] },
                    setUp: @Sendable (ServerComponents) async throws -> Void = { _ in },
                    _ body: @Sendable @escaping (any TestClientProtocol) async throws -> Void) async throws {
    try await engine.withFreshStore { store, directory in
        let components = try testComponents(store: store, directory: directory)
        try await setUp(components)
        let app = VisageServer.makeApplication(components, logger: Logger(label: "test"), dialects: extra(components))
        try await app.test(.live) { client in try await body(client) }
    }
}

/// A server's parts over a fresh store, with the web UI's files from the source tree.
func testComponents(store: MetadataStore, directory: URL) throws -> ServerComponents {
    let static_ = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/VisageServer/WebUI/static")
    let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, dataDirectory: directory, maxRequestBodyBytes: 1024)
    return ServerComponents(
        configuration: configuration, store: store,
        objects: CatalogObjectStore(blobs: try LocalBlobFiles(root: directory.appendingPathComponent("objects")), store: store),
        box: .ephemeral(), assets: try WebAssets(directory: static_))
}

func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
}

@Suite("HTTP server")
struct ServerTests {
    @Test("health check answers with the store's state", arguments: TestEngine.available)
    func health(engine: TestEngine) async throws {
        try await withLiveServer(engine) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("x-visage-request-id")!]?.count == 36)
                let body = try json(response.body)
                #expect(body["status"] as? String == "ok")
                #expect(body["database"] as? String == engine.rawValue)
                #expect(body["schemaVersion"] as? Int == MetadataStore.currentSchemaVersion)
            }
        }
    }

    @Test("metrics count requests per route and status in Prometheus text")
    func metrics() async throws {
        try await withLiveServer(.sqlite) { client in
            for _ in 0..<3 { try await client.execute(uri: "/healthz", method: .get) { _ in } }
            try await client.execute(uri: "/no/such/thing/../x", method: .get) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(buffer: response.body)
                #expect(text.contains(#"visage_http_requests_total{route="/healthz",method="GET",status="200"} 3"#))
                #expect(text.contains("# TYPE visage_http_request_duration_seconds histogram"))
                #expect(text.contains(#"visage_http_request_duration_seconds_bucket{route="/healthz",method="GET",status="200",le="+Inf"} 3"#))
            }
        }
    }

    @Test("malformed RPC calls get Alibaba-style JSON errors with the request id, never a crash")
    func malformedRPC() async throws {
        try await withLiveServer(.sqlite) { client in
            let cases: [(String, HTTPRequest.Method, HTTPFields, String?, HTTPResponse.Status, String)] = [
                ("/?Action=AssumeRole", .post, [:], nil, .badRequest, "MissingParameter"),
                ("/", .post, [.contentType: "application/x-www-form-urlencoded"], "Version=2015-04-01", .badRequest, "MissingParameter"),
                ("/?Action=NoSuchThing&Version=2015-04-01", .post, [:], nil, .notFound, "InvalidAction.NotFound"),
                ("/", .post, [HTTPField.Name("x-acs-action")!: "Whatever", HTTPField.Name("x-acs-version")!: "2020-09-30"], nil,
                 .notFound, "InvalidAction.NotFound"),
                ("/?Action=X&Version=1", .post, [.contentType: "application/x-www-form-urlencoded"],
                 String(repeating: "A=1&", count: 1000), .contentTooLarge, "EntityTooLarge"),
                ("/?Action=%ZZ&Version=%", .post, [:], nil, .notFound, "InvalidAction.NotFound"),
            ]
            for (uri, method, headers, body, status, code) in cases {
                try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
                    #expect(response.status == status, "\(uri)")
                    let payload = try json(response.body)
                    #expect(payload["Code"] as? String == code, "\(uri)")
                    #expect(payload["RequestId"] as? String == response.headers[HTTPField.Name("x-visage-request-id")!])
                    #expect((payload["Message"] as? String)?.isEmpty == false)
                }
            }
        }
    }

    @Test("each dialect answers in its own error format")
    func dialectErrorFormats() async throws {
        try await withLiveServer(.sqlite) { client in
            try await client.execute(uri: "/photos/a.jpg", method: .get) { response in
                #expect(response.headers[.contentType] == "application/xml")
                #expect(String(buffer: response.body).contains("<Code>AccessDenied</Code>"))
                #expect(response.headers[HTTPField.Name("x-oss-request-id")!] == response.headers[HTTPField.Name("x-visage-request-id")!])
            }
            try await client.execute(uri: "/", method: .post, headers: [HTTPField.Name("X-Amz-Target")!: "RekognitionService.DetectModerationLabels"]) { response in
                // Unsigned: refused in AWS JSON's own shape.
                let type = try json(response.body)["__type"] as? String
                #expect(type == "MissingAuthenticationTokenException")
                #expect(response.headers[HTTPField.Name("x-amzn-RequestId")!] != nil)
            }
            try await client.execute(uri: "/face/v1.2/detectLiveness-sessions", method: .post) { response in
                #expect(response.status == .unauthorized)
                let error = try #require(try json(response.body)["error"] as? [String: Any])
                #expect(error["code"] as? String == "401")
                #expect(response.headers[HTTPField.Name("x-ms-error-code")!] == "401")
            }
            try await client.execute(uri: "/visage/v1/nothing", method: .get) { response in
                #expect(response.status == .notFound)
                let error = try #require(try json(response.body)["error"] as? [String: Any])
                #expect(error["requestId"] as? String == response.headers[HTTPField.Name("x-visage-request-id")!])
            }
        }
    }

    @Test("a browser's GET / goes to the web UI, which is served from memory")
    func webUI() async throws {
        try await withLiveServer(.sqlite) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .found && response.headers[.location] == "/ui/")
            }
            try await client.execute(uri: "/ui", method: .get) { response in
                #expect(response.status == .found && response.headers[.location] == "/ui/")
            }
            try await client.execute(uri: "/ui/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let page = String(buffer: response.body)
                for section in ["upload", "people", "moderation", "liveness", "tasks"] {
                    #expect(page.contains(#"<section id="\#(section)""#))
                }
            }
            try await client.execute(uri: "/ui/app.js", method: .get) { response in
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
            }
            for path in ["/ui/../Package.swift", "/ui/%2e%2e/%2e%2e/etc/passwd", "/ui/nope.html"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .notFound || response.status == .found, "\(path)")
                    #expect(!String(buffer: response.body).contains("root:"))
                }
            }
        }
    }
}

@Suite("Routing plan")
struct DialectRoutingTests {
    let registry: DialectRegistry

    init() async throws {
        registry = try await TestEngine.sqlite.withFreshStore { store, directory in
            VisageServer.dialects(try testComponents(store: store, directory: directory))
        }
    }

    func classify(_ method: HTTPRequest.Method, _ path: String, query: [String: String] = [:], headers: HTTPFields = [:]) -> String {
        registry.classify(RequestHead(method: method, path: path, query: query, headers: headers)).name
    }

    func classify(_ path: String, query: [String: String] = [:], headers: HTTPFields = [:]) -> String {
        classify(.get, path, query: query, headers: headers)
    }

    @Test func everyDialectHasItsPlace() {
        #expect(classify("/healthz") == "visage")
        #expect(classify("/metrics") == "visage")
        #expect(classify("/ui/") == "visage")
        #expect(classify("/") == "visage")
        #expect(classify(.post, "/", query: ["Action": "AssumeRole", "Version": "2015-04-01"]) == "alibaba-rpc")
        #expect(classify(.post, "/", headers: [HTTPField.Name("x-acs-action")!: "SimpleQuery"]) == "alibaba-rpc")
        #expect(classify(.post, "/", headers: [.contentType: "application/x-www-form-urlencoded"]) == "alibaba-rpc")
        #expect(classify(.post, "/") == "alibaba-rpc")
        #expect(classify(.post, "/", headers: [HTTPField.Name("X-Amz-Target")!: "RekognitionService.DetectModerationLabels"]) == "rekognition")
        #expect(classify(.post, "/green/image/asyncscan") == "green")
        #expect(classify(.post, "/face/v1.2-preview.1/detectLivenessWithVerify/singleModal/sessions") == "azure-face")
        #expect(classify("/", headers: [.authorization: "OSS LTAI:sig"]) == "oss")
        #expect(classify("/", query: ["OSSAccessKeyId": "LTAI"]) == "oss")
        #expect(classify(.put, "/photos") == "oss")
        #expect(classify(.put, "/photos/a/b%20c.jpg") == "oss")
        #expect(classify("/visage/v1/tasks") == "visage")
        #expect(classify("/api/x") == "visage")
    }

    @Test("S3 is told from OSS by its signature, on any path and at /; anonymous requests stay with OSS")
    func s3ClaimsSignedRequests() {
        let sigV4: HTTPFields = [.authorization: "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"]
        #expect(classify("/", headers: sigV4) == "s3")
        #expect(classify(.put, "/photos/a.jpg", headers: sigV4) == "s3")
        #expect(classify(.head, "/photos", headers: sigV4) == "s3")
        #expect(classify("/photos/a.jpg", query: ["X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": "AK/20260101/us-east-1/s3/aws4_request"]) == "s3")
        #expect(classify(.put, "/photos/a.jpg", query: ["X-Amz-Credential": "AK/20260101/us-east-1/s3/aws4_request"]) == "s3")
        #expect(classify("/photos/a.jpg", query: ["AWSAccessKeyId": "AK", "Expires": "1", "Signature": "x"]) == "s3")
        #expect(classify(.put, "/photos/a.jpg", headers: [.authorization: "AWS AK:c2lnbmF0dXJl"]) == "s3")
        // The claim comes before paths: a signed request for a reserved name is S3's (and no bucket).
        #expect(classify("/healthz", headers: sigV4) == "s3")
        // Anonymous, and OSS-signed, requests to buckets are OSS's; a browser's GET / is the web UI.
        #expect(classify(.put, "/photos/a.jpg") == "oss")
        #expect(classify("/photos/a.jpg", headers: [.authorization: "OSS4-HMAC-SHA256 Credential=LTAI/20260101/cn-hangzhou/oss/aliyun_v4_request"]) == "oss")
        #expect(classify("/photos/a.jpg", query: ["x-oss-credential": "LTAI"]) == "oss")
        #expect(classify("/") == "visage")
        // Rekognition's marking header wins over the signature it also carries.
        var rekognition = sigV4
        rekognition[HTTPField.Name("X-Amz-Target")!] = "RekognitionService.DetectFaces"
        #expect(classify(.post, "/", headers: rekognition) == "rekognition")
    }

    @Test func routeNamesCanNeverBeBuckets() {
        for name in ["green", "face", "healthz", "metrics", "visage", "static"] {
            #expect(throws: VisageError.self) { try BucketName(name) }
        }
        #expect(registry.reservedNames.isSuperset(of: ["green", "face", "healthz", "metrics", "visage", "ui"]))
    }
}
