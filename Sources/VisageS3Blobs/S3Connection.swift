import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import VisageCore
import VisageSigning

/// What the service answered when it refused a request (its error document).
struct S3ServiceError: Error, Sendable, CustomStringConvertible {
    let status: Int
    let code: String
    let message: String

    /// Answers that say "not now" rather than "no": worth another attempt after a pause.
    var isRetryable: Bool {
        status >= 500 || status == 429 || ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable"].contains(code)
    }

    var description: String { "HTTP \(status) \(code)\(message.isEmpty ? "" : ": \(message)")" }
}

/// Signed requests to one bucket of an S3-compatible service, each retried with exponential
/// backoff while the service answers 5xx, throttles, or cannot be reached. A request that still
/// fails that way ends in `VisageError.unavailable`, so callers answer a retryable error.
struct S3Connection: Sendable {
    let settings: S3Settings
    let http: HTTPClient
    let signer: S3RequestSigner
    let logger: Logger

    init(settings: S3Settings, http: HTTPClient, logger: Logger) {
        self.settings = settings
        self.http = http
        self.signer = S3RequestSigner(accessKeyID: settings.accessKeyID, secretAccessKey: settings.secretAccessKey,
                                      sessionToken: settings.sessionToken, region: settings.region)
        self.logger = logger
    }

    /// The full key of a blob.
    func key(of blobID: String) -> String { settings.prefix + blobID }

    /// The URL, the canonical (encoded) path and the host header of a request on `key` (nil: the bucket).
    func address(key: String?, query: [(String, String)]) -> (url: String, path: String, host: String) {
        let endpoint = settings.endpoint
        let scheme = endpoint.scheme ?? "https"
        var host = endpoint.host ?? ""
        if let port = endpoint.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            host += ":\(port)"
        }
        let encodedKey = key.map { "/" + SigningText.percentEncode($0, keepSlash: true) } ?? "/"
        let path: String
        if settings.pathStyle {
            path = "/" + SigningText.percentEncode(settings.bucket) + (key == nil ? "" : encodedKey)
        } else {
            host = settings.bucket + "." + host
            path = encodedKey
        }
        // A parameter without a value (`?uploads`) is written bare; the signature spells it `uploads=`.
        let queryText = query.isEmpty ? "" : "?" + query.map {
            $0.1.isEmpty ? SigningText.percentEncode($0.0) : "\(SigningText.percentEncode($0.0))=\(SigningText.percentEncode($0.1))"
        }.joined(separator: "&")
        return ("\(scheme)://\(host)\(path)\(queryText)", path, host)
    }

    /// Sends one request, retrying as described, and returns the successful response with its
    /// body unread. `body` is sent whole with its SHA-256 in the signature.
    func send(_ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
              body: [UInt8]? = nil, what: String) async throws -> HTTPClientResponse {
        // Writes always carry a body (an empty one at least), so Content-Length is always sent.
        let body = body ?? (method == .PUT || method == .POST ? [] : nil)
        let payloadHash = SigningText.sha256Hex(body ?? [])
        var attempt = 1
        while true {
            let failure: any Error
            do {
                let response = try await once(method, key: key, query: query, headers: headers, body: body, payloadHash: payloadHash)
                if (200..<300).contains(Int(response.status.code)) { return response }
                let document = try await response.body.collect(upTo: 1 << 20)
                failure = Self.serviceError(status: Int(response.status.code), body: Array(buffer: document))
            } catch let error as CancellationError {
                throw error
            } catch {
                failure = error
            }
            try await retryOrThrow(failure, attempt: attempt, what: what)
            attempt += 1
        }
    }

    /// Waits before another attempt at a request that failed with `failure`, or throws what the
    /// caller should see when it is not worth retrying or the attempts are spent.
    func retryOrThrow(_ failure: any Error, attempt: Int, what: String) async throws {
        let retryable = (failure as? S3ServiceError)?.isRetryable ?? !(failure is VisageError)
        guard retryable else {
            if let refused = failure as? S3ServiceError {
                throw VisageError.internalFailure(message: "the object backend refused to \(what): \(refused)")
            }
            throw failure
        }
        guard attempt < settings.maxAttempts else {
            logger.warning("object backend unavailable", metadata: ["request": "\(what)", "error": "\(failure)"])
            throw VisageError.unavailable(message: "the object backend did not \(what) after \(attempt) attempts (\(failure))")
        }
        let base = settings.firstBackoff * (1 << (attempt - 1))
        let pause = base * Double.random(in: 0.5...1.0)
        logger.debug("retrying object backend request", metadata: ["request": "\(what)", "error": "\(failure)", "attempt": "\(attempt)"])
        try await Task.sleep(for: pause)
    }

    private func once(_ method: HTTPMethod, key: String?, query: [(String, String)], headers: [(String, String)],
                      body: [UInt8]?, payloadHash: String) async throws -> HTTPClientResponse {
        let (url, path, host) = address(key: key, query: query)
        var request = HTTPClientRequest(url: url)
        request.method = method
        let sent = [(name: "host", value: host)] + headers.map { (name: $0.0.lowercased(), value: $0.1) }
        for header in sent + signer.sign(method: method.rawValue, path: path, query: query, headers: sent, payloadHash: payloadHash) {
            request.headers.replaceOrAdd(name: header.name, value: header.value)
        }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return try await http.execute(request, timeout: .seconds(300))
    }

    /// Sends a request and collects its (small, XML) answer. Some operations answer 200 and put
    /// an error document in the body; that counts as the error it names.
    func call(_ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
              body: [UInt8]? = nil, what: String) async throws -> (headers: HTTPHeaders, body: [UInt8]) {
        var attempt = 1
        while true {
            let response = try await send(method, key: key, query: query, headers: headers, body: body, what: what)
            let failure: any Error
            do {
                let bytes = Array(buffer: try await response.body.collect(upTo: 16 << 20))
                if let error = S3XML.first("Error", in: bytes), !error.isEmpty, S3XML.first("Code", in: bytes) != nil {
                    failure = Self.serviceError(status: 500, body: bytes)
                } else {
                    return (response.headers, bytes)
                }
            } catch {
                failure = error
            }
            try await retryOrThrow(failure, attempt: attempt, what: what)
            attempt += 1
        }
    }

    static func serviceError(status: Int, body: [UInt8]) -> S3ServiceError {
        S3ServiceError(status: status, code: S3XML.first("Code", in: body) ?? "HTTP\(status)", message: S3XML.first("Message", in: body) ?? "")
    }
}
