import Foundation

/// The built-in (type `System`) policies, by their usual names. Written for Visage's services:
/// object storage (`oss:*`), media management (`imm:*`), identities (`ram:*`) and tokens (`sts:*`).
public enum SystemPolicies {
    /// Name, description and document of each system policy.
    public static let all: [(name: String, description: String, document: String)] = [
        ("AdministratorAccess", "Full access to every Visage service.",
         #"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#),
        ("AliyunSTSAssumeRoleAccess", "Permission to assume roles through STS.",
         #"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#),
        ("AliyunOSSFullAccess", "Full access to object storage.",
         #"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}"#),
        ("AliyunOSSReadOnlyAccess", "Read-only access to object storage.",
         #"{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:Get*","oss:List*","oss:Head*"],"Resource":"*"}]}"#),
        ("AliyunIMMFullAccess", "Full access to intelligent media management.",
         #"{"Version":"1","Statement":[{"Effect":"Allow","Action":"imm:*","Resource":"*"}]}"#),
        ("AliyunRAMFullAccess", "Full access to users, roles and policies.",
         #"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*","Resource":"*"}]}"#),
    ]

    public static func named(_ name: String) -> (name: String, description: String, document: String)? {
        all.first { $0.name == name }
    }
}
