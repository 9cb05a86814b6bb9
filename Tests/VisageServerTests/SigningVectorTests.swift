import Crypto
import Foundation
import Testing
@testable import VisageServer
import VisageSigning

/// The shared signing primitives against the worked examples AWS publishes for Signature
/// Version 4 (the same canonical-request, key-chain and string-to-sign pieces ACS3 and OSS V4 use).
@Suite("Signing primitives with published vectors")
struct SigningVectorTests {
    @Test("SigV4 key chain: AWS's derivation example (secret ...EXAMPLEKEY, 20120215, us-east-1, iam)")
    func signingKey() throws {
        let scope = try #require(CredentialScope.parse("AKIDEXAMPLE/20120215/us-east-1/iam/aws4_request", service: "iam",
                                                       terminator: "aws4_request"))
        let key = scope.signingKey(secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", prefix: "AWS4")
        #expect(SigningText.hex(key) == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    @Test("SigV4 worked example: IAM ListUsers (canonical request hash, signature)")
    func iamListUsers() throws {
        let headers = CanonicalRequest.headers([
            ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Host", "iam.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
        ])
        let request = CanonicalRequest.text(
            method: "GET", uri: "/", query: CanonicalRequest.query([("Version", "2010-05-08"), ("Action", "ListUsers")], bareEmpty: false),
            headers: headers, signedHeaders: ["content-type", "host", "x-amz-date"],
            payload: SigningText.sha256Hex(Data()))
        let hash = SigningText.sha256Hex(Data(request.utf8))
        #expect(hash == "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")
        let scope = try #require(CredentialScope.parse("AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request", service: "iam",
                                                       terminator: "aws4_request"))
        let text = ["AWS4-HMAC-SHA256", "20150830T123600Z", scope.scope, hash].joined(separator: "\n")
        #expect(scope.signature(secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", prefix: "AWS4", stringToSign: text)
            == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
        let fields = try #require(AuthorizationParameters.parse(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            scheme: "AWS4-HMAC-SHA256"))
        #expect(fields["Credential"] == "AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request")
        #expect(fields["SignedHeaders"] == "content-type;host;x-amz-date")
    }

    @Test("SigV4 worked example: S3 GET Object with a range (header signing)")
    func s3GetObject() throws {
        let empty = SigningText.sha256Hex(Data())
        let headers = CanonicalRequest.headers([
            ("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-9"), ("x-amz-content-sha256", empty),
            ("x-amz-date", "20130524T000000Z"),
        ])
        let request = CanonicalRequest.text(method: "GET", uri: "/test.txt", query: CanonicalRequest.query([], bareEmpty: false),
                                            headers: headers, signedHeaders: ["host", "range", "x-amz-content-sha256", "x-amz-date"],
                                            payload: empty)
        let scope = try #require(CredentialScope.parse("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request", service: "s3",
                                                       terminator: "aws4_request"))
        let text = ["AWS4-HMAC-SHA256", "20130524T000000Z", scope.scope, SigningText.sha256Hex(Data(request.utf8))]
            .joined(separator: "\n")
        #expect(scope.signature(secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", prefix: "AWS4", stringToSign: text)
            == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test("percent-encoding keeps exactly the RFC 3986 unreserved set; queries sort by encoded bytes")
    func encoding() {
        #expect(SigningText.percentEncode("AZaz09-_.~") == "AZaz09-_.~")
        #expect(SigningText.percentEncode("a b+c*d/é") == "a%20b%2Bc%2Ad%2F%C3%A9")
        #expect(SigningText.percentEncode("dir/a b", keepSlash: true) == "dir/a%20b")
        #expect(CanonicalRequest.query([("b", ""), ("a", "2"), ("a", "1"), ("Z", "x y")], bareEmpty: false) == "Z=x%20y&a=1&a=2&b=")
        #expect(CanonicalRequest.query([("uploads", ""), ("a", "1")], bareEmpty: true) == "a=1&uploads")
    }

    @Test("a credential scope must name a key, an 8-digit date, a region, the service and the terminator")
    func scopes() {
        let good = "AK/20260101/cn-hangzhou/oss/aliyun_v4_request"
        #expect(CredentialScope.parse(good, service: "oss", terminator: "aliyun_v4_request")?.region == "cn-hangzhou")
        for bad in ["AK/20260101//oss/aliyun_v4_request", "/20260101/r/oss/aliyun_v4_request", "AK/2026/r/oss/aliyun_v4_request",
                    "AK/20260101/r/s3/aliyun_v4_request", "AK/20260101/r/oss/aws4_request", "AK/20260101/r/oss"] {
            #expect(CredentialScope.parse(bad, service: "oss", terminator: "aliyun_v4_request") == nil, "\(bad)")
        }
        #expect(AuthorizationParameters.parse("OSS AK:sig", scheme: "OSS4-HMAC-SHA256") == nil)
    }
}
