import Crypto
import Foundation
import HTTPTypes
import NIOCore
import VisageSigning

/// Everything a request body must satisfy before the write it carries may complete: the signed
/// SHA-256 of the whole body, the chain of chunk signatures of an aws-chunked body, its decoded
/// length, and a declared checksum (header or trailer). Each check fails the body's last read,
/// so the store discards what it was writing.
struct S3BodyCheck: Sendable {
    private var decoder: AWSChunkedDecoder?
    private var expectedSHA256: String?
    private var hash = SHA256()
    private var expectedLength: Int64?
    private var length: Int64 = 0
    private var checksum: S3Checksum?
    private var expectedChecksum: String?
    /// The verified checksum, for the response (`x-amz-checksum-*`).
    private(set) var verifiedChecksum: (algorithm: S3Checksum.Algorithm, value: String)?

    init(payload: S3Payload, chain: ChunkSignatureChain?, headers: HTTPFields) throws {
        switch payload {
        case let .sha256(hex): expectedSHA256 = hex
        case .unsigned: break
        case .signedChunks:
            guard let chain else { throw S3Error.accessDenied("The request's signature was not verified.") }
            decoder = AWSChunkedDecoder(chain: chain)
        case .unsignedChunks: decoder = AWSChunkedDecoder(chain: nil)
        }
        if decoder != nil {
            guard let text = headers[.amzDecodedContentLength], let value = Int64(text), value >= 0 else {
                throw WireError(status: .lengthRequired, code: "MissingContentLength",
                                message: "An aws-chunked body needs x-amz-decoded-content-length.")
            }
            expectedLength = value
        }
        if let declared = try S3Checksum.declared(in: headers) {
            checksum = S3Checksum(declared.algorithm)
            expectedChecksum = declared.value
        }
    }

    /// Takes bytes as they arrive; returns the payload bytes among them.
    mutating func feed(_ bytes: [UInt8]) throws -> [UInt8] {
        let payload: [UInt8]
        if decoder != nil {
            do { payload = try decoder!.feed(bytes) } catch let failure as AWSChunkedDecoder.Failure { throw Self.wire(failure) }
        } else {
            payload = bytes
            if expectedSHA256 != nil { hash.update(data: bytes) }
        }
        length += Int64(payload.count)
        if let expectedLength, length > expectedLength { throw Self.incomplete("The body is longer than x-amz-decoded-content-length.") }
        checksum?.update(payload)
        return payload
    }

    /// Runs the checks that need the whole body.
    mutating func finish() throws {
        if let expectedSHA256, SigningText.hex(hash.finalize()) != expectedSHA256 {
            throw WireError(status: .badRequest, code: "XAmzContentSHA256Mismatch",
                            message: "The provided 'x-amz-content-sha256' header does not match what was computed.")
        }
        if let decoder {
            do { try decoder.finish() } catch let failure as AWSChunkedDecoder.Failure { throw Self.wire(failure) }
            if let expectedLength, length != expectedLength {
                throw Self.incomplete("The body is not as long as x-amz-decoded-content-length says.")
            }
        }
        if let checksum {
            let expected = expectedChecksum ?? decoder?.trailers[checksum.algorithm.header]
            guard let expected else {
                throw WireError(status: .badRequest, code: "InvalidRequest", message: "The declared \(checksum.algorithm.header) trailer is missing.")
            }
            let actual = checksum.finish()
            guard actual == expected else {
                throw WireError(status: .badRequest, code: "BadDigest",
                                message: "The \(checksum.algorithm.name) you specified did not match the calculated checksum.")
            }
            verifiedChecksum = (checksum.algorithm, actual)
        }
    }

    static func wire(_ failure: AWSChunkedDecoder.Failure) -> WireError {
        switch failure {
        case .signatureMismatch:
            return S3Error.authentication(.signatureMismatch)
        case let .malformed(message):
            return incomplete("The aws-chunked body is malformed: \(message).")
        }
    }

    static func incomplete(_ message: String) -> WireError {
        WireError(status: .badRequest, code: "IncompleteBody", message: message)
    }
}

/// A request body (as `BodyBlocks`) read through an `S3BodyCheck`: the payload bytes, failing on
/// the last read when a check does not hold.
struct S3CheckedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == [UInt8] {
    typealias Element = [UInt8]
    typealias Failure = any Error

    let base: Base
    let check: S3BodyCheck
    /// Receives the finished check (its verified checksum) once the body has been read.
    let done: @Sendable (S3BodyCheck) -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        var check: S3BodyCheck
        let done: @Sendable (S3BodyCheck) -> Void
        var finished = false

        mutating func next() async throws -> [UInt8]? {
            while !finished {
                guard let block = try await base.next() else {
                    finished = true
                    try check.finish()
                    done(check)
                    return nil
                }
                let payload = try check.feed(block)
                if !payload.isEmpty { return payload }
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), check: check, done: done) }
}
