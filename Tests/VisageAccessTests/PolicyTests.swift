import Foundation
import Testing
import VisageAccess

@Suite("RAM policy language")
struct PolicyTests {
    let uploadPolicy = try! PolicyDocument.parse("""
        {"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:PutObject","Resource":"acs:oss:*:*:web-direct-upload/uploads/*"}]}
        """)
    let projectPolicy = try! PolicyDocument.parse("""
        {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "imm:*",
         "Resource": "acs:imm:cn-hangzhou:1413397765616316:project/photos"}]}
        """)

    func decide(_ policies: [PolicyDocument], _ action: String, _ resource: String, _ context: [String: String] = [:]) -> AccessDecision {
        PolicyDocument.evaluate(policies, AccessRequest(action: action, resource: resource, context: context))
    }

    @Test("acs:CurrentTime is the request's time in UTC to the second, as ISO8601DateFormatter writes it")
    func currentTime() {
        let formatter = ISO8601DateFormatter()
        for seconds in [0, 59.999, 951_782_400.25, 1_764_942_884.5, 4_102_444_799, -86_400] as [Double] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(AccessRequest.standardContext(now: date, sourceIP: nil)["acs:CurrentTime"] == formatter.string(from: date))
        }
    }

    @Test("the seed's policies grant exactly what they name")
    func seedPolicies() {
        let both = [uploadPolicy, projectPolicy]
        #expect(decide(both, "oss:PutObject", "acs:oss:*:1413397765616316:web-direct-upload/uploads/a.jpg") == .allow)
        #expect(decide(both, "oss:PutObject", "acs:oss:*:1413397765616316:web-direct-upload/uploads/deep/a b.jpg") == .allow)
        #expect(decide(both, "oss:PutObject", "acs:oss:*:1413397765616316:web-direct-upload/other/a.jpg") == .implicitDeny)
        #expect(decide(both, "oss:GetObject", "acs:oss:*:1413397765616316:web-direct-upload/uploads/a.jpg") == .implicitDeny)
        #expect(decide(both, "oss:PutObject", "acs:oss:*:1413397765616316:other-bucket/uploads/a.jpg") == .implicitDeny)
        #expect(decide(both, "imm:DetectImageFaces", "acs:imm:cn-hangzhou:1413397765616316:project/photos") == .allow)
        #expect(decide(both, "IMM:detectimagefaces", "acs:imm:cn-hangzhou:1413397765616316:project/photos") == .allow)
        #expect(decide(both, "imm:DetectImageFaces", "acs:imm:cn-hangzhou:1413397765616316:project/photos2") == .implicitDeny)
        #expect(decide(both, "imm:DetectImageFaces", "acs:imm:cn-hangzhou:1413397765616316:project/Photos") == .implicitDeny)
    }

    @Test("an explicit Deny wins over any Allow; NotAction and NotResource invert the match")
    func denyWins() throws {
        let deny = try PolicyDocument.parse("""
            {"Version":"1","Statement":[{"Effect":"Deny","Action":"oss:PutObject","Resource":"acs:oss:*:*:web-direct-upload/uploads/secret/*"},
             {"Effect":"Allow","NotAction":["oss:Delete*"],"NotResource":"acs:oss:*:*:private/*"}]}
            """)
        #expect(decide([uploadPolicy, deny], "oss:PutObject", "acs:oss:*:1:web-direct-upload/uploads/secret/x") == .explicitDeny)
        #expect(decide([uploadPolicy, deny], "oss:PutObject", "acs:oss:*:1:web-direct-upload/uploads/x") == .allow)
        #expect(decide([deny], "oss:GetObject", "acs:oss:*:1:public/x") == .allow)
        #expect(decide([deny], "oss:DeleteObject", "acs:oss:*:1:public/x") == .implicitDeny)
        #expect(decide([deny], "oss:GetObject", "acs:oss:*:1:private/x") == .implicitDeny)
    }

    @Test("wildcards: * spans any run, ? one character")
    func wildcards() {
        #expect(Wildcard.matches("a*c", "abbbc") && Wildcard.matches("a*c", "ac") && !Wildcard.matches("a*c", "acb"))
        #expect(Wildcard.matches("a?c", "abc") && !Wildcard.matches("a?c", "ac"))
        #expect(Wildcard.matches("*", "") && Wildcard.matches("**x*", "yyxyy") && !Wildcard.matches("x", "xx"))
        #expect(Wildcard.matches("bucket/写真/*", "bucket/写真/猫.jpg"))
    }

    @Test("conditions: IpAddress, StringLike, numbers, dates, Bool; a missing key never matches")
    func conditions() throws {
        let policy = try PolicyDocument.parse("""
            {"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:ListObjects","Resource":"*",
              "Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","2001:db8::/32"]},
                           "StringLike":{"oss:Prefix":["photos/*","shared/?"]},
                           "NumericLessThanEquals":{"oss:max-keys":100},
                           "DateLessThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"},
                           "Bool":{"acs:SecureTransport":false}}}]}
            """)
        let good = ["acs:SourceIp": "10.1.2.3", "oss:Prefix": "photos/2026/", "oss:max-keys": "50",
                    "acs:CurrentTime": "2026-11-22T01:00:00Z", "acs:SecureTransport": "false"]
        #expect(decide([policy], "oss:ListObjects", "x", good) == .allow)
        #expect(decide([policy], "oss:ListObjects", "x", good.merging(["ACS:SOURCEIP": "::ffff:10.9.9.9"]) { $1 }) == .allow)
        #expect(decide([policy], "oss:ListObjects", "x", good.merging(["acs:SourceIp": "2001:db8:1::5"]) { $1 }) == .allow)
        #expect(decide([policy], "oss:ListObjects", "x", good.merging(["acs:SourceIp": "192.168.1.1"]) { $1 }) == .implicitDeny)
        #expect(decide([policy], "oss:ListObjects", "x", good.merging(["oss:Prefix": "shared/ab"]) { $1 }) == .implicitDeny)
        #expect(decide([policy], "oss:ListObjects", "x", good.merging(["oss:max-keys": "101"]) { $1 }) == .implicitDeny)
        #expect(decide([policy], "oss:ListObjects", "x", good.merging(["acs:CurrentTime": "2031-01-01T00:00:00Z"]) { $1 }) == .implicitDeny)
        #expect(decide([policy], "oss:ListObjects", "x", good.filter { $0.key != "oss:Prefix" }) == .implicitDeny)
        let notIP = try PolicyDocument.parse("""
            {"Version":"1","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":"127.0.0.1"}}},
              {"Effect":"Allow","Action":"*","Resource":"*"}]}
            """)
        #expect(decide([notIP], "oss:GetObject", "x", ["acs:SourceIp": "127.0.0.1"]) == .allow)
        #expect(decide([notIP], "oss:GetObject", "x", ["acs:SourceIp": "127.0.0.2"]) == .explicitDeny)
    }

    @Test("malformed documents are refused, naming the fault")
    func malformed() {
        let cases: [(String, String)] = [
            ("not json", "not a JSON object"),
            (#"{"Version":"2","Statement":[]}"#, "Version"),
            (#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject"}]}"#, "Resource"),
            (#"{"Version":"1","Statement":[{"Effect":"allow","Action":"oss:GetObject","Resource":"*"}]}"#, "Effect"),
            (#"{"Version":"1","Statement":[{"Effect":"Allow","Actions":"oss:GetObject","Resource":"*"}]}"#, "Actions"),
            (#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}"#, "service:Operation"),
            (#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*","Condition":{"IpAdress":{"acs:SourceIp":"1.2.3.4"}}}]}"#, "IpAdress"),
            (#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"1.2.3.4/33"}}}]}"#, "CIDR"),
            (#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*","Extra":1}]}"#, "Extra"),
            (#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","NotAction":"oss:Get*","Resource":"*"}]}"#, "both"),
        ]
        for (text, fragment) in cases {
            #expect(throws: PolicyError.self) { try PolicyDocument.parse(text) }
            do { _ = try PolicyDocument.parse(text) } catch { #expect("\(error)".contains(fragment), "\(text): \(error)") }
        }
        #expect(throws: PolicyError.self) {
            try PolicyDocument.parse(#"{"Version":"1","Statement":[]}"# + String(repeating: " ", count: 3000),
                                     maxLength: PolicyDocument.maxSessionPolicyLength)
        }
    }

    @Test("a session policy can only narrow the role's grants")
    func sessionPolicy() throws {
        let broad = try PolicyDocument.parse(#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        let role = Permissions(policies: [uploadPolicy], sessionPolicy: broad)
        let upload = AccessRequest(action: "oss:PutObject", resource: "acs:oss:*:1:web-direct-upload/uploads/a")
        #expect(role.decide(upload) == .allow)
        #expect(role.decide(AccessRequest(action: "oss:GetObject", resource: "acs:oss:*:1:web-direct-upload/uploads/a")) == .implicitDeny)
        let narrow = try PolicyDocument.parse(
            #"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:PutObject","Resource":"acs:oss:*:*:web-direct-upload/uploads/me/*"}]}"#)
        let narrowed = Permissions(policies: [uploadPolicy], sessionPolicy: narrow)
        #expect(narrowed.decide(upload) == .implicitDeny)
        #expect(narrowed.decide(AccessRequest(action: "oss:PutObject", resource: "acs:oss:*:1:web-direct-upload/uploads/me/a")) == .allow)
        #expect(Permissions(isAccountRoot: true).decide(AccessRequest(action: "ram:DeleteRole", resource: "*")) == .allow)
    }

    @Test("trust policies name the account or one user")
    func trust() throws {
        let account = try PolicyDocument.parse("""
            {"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1234:root"]}}]}
            """, kind: .trust)
        #expect(account.trusts(callerAccountID: "1234", callerARN: "acs:ram::1234:user/alice"))
        #expect(!account.trusts(callerAccountID: "9999", callerARN: "acs:ram::9999:user/alice"))
        let oneUser = try PolicyDocument.parse("""
            {"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::1234:user/alice"}}]}
            """, kind: .trust)
        #expect(oneUser.trusts(callerAccountID: "1234", callerARN: "acs:ram::1234:user/alice"))
        #expect(!oneUser.trusts(callerAccountID: "1234", callerARN: "acs:ram::1234:user/bob"))
        #expect(throws: PolicyError.self) {
            try PolicyDocument.parse(#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#, kind: .trust)
        }
        for (name, _, document) in SystemPolicies.all { #expect((try? PolicyDocument.parse(document)) != nil, "\(name)") }
    }
}

@Suite("Session tokens")
struct SessionTokenTests {
    let tokens = SessionTokens(box: .ephemeral())
    let claims = SessionClaims(accountID: "1234", roleName: "uploader", roleID: "42", sessionName: "s1", issuerKeyID: "LTAIx",
                               sessionPolicy: nil, issuedAt: 1_000, expiresAt: 1_900)

    @Test("a token verifies with its own key id until it expires; any change breaks it")
    func lifecycle() throws {
        let issued = try tokens.issue(claims)
        #expect(issued.accessKeyID.hasPrefix("STS.") && issued.secret == tokens.secret(for: issued.accessKeyID))
        let now = Date(timeIntervalSince1970: 1_500)
        #expect(try tokens.verify(issued.token, accessKeyID: issued.accessKeyID, now: now).roleName == "uploader")
        #expect(throws: SessionTokens.Failure.expired) {
            try tokens.verify(issued.token, accessKeyID: issued.accessKeyID, now: Date(timeIntervalSince1970: 1_900))
        }
        #expect(throws: SessionTokens.Failure.mismatchWithAccessKey) {
            try tokens.verify(issued.token, accessKeyID: "STS.other", now: now)
        }
        var tampered = Array(issued.token)
        tampered[10] = tampered[10] == "A" ? "B" : "A"
        #expect(throws: SessionTokens.Failure.malformed) { try tokens.verify(String(tampered), accessKeyID: issued.accessKeyID, now: now) }
        #expect(throws: SessionTokens.Failure.malformed) { try tokens.verify("garbage", accessKeyID: issued.accessKeyID, now: now) }
        // Another data directory's key signs differently.
        #expect(throws: SessionTokens.Failure.malformed) {
            try SessionTokens(box: .ephemeral()).verify(issued.token, accessKeyID: issued.accessKeyID, now: now)
        }
    }
}
