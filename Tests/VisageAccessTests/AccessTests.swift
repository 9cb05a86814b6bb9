import Crypto
import Foundation
import Testing
import VisageAccess
import VisageCore
import VisageStore
import VisageTestSupport

@Suite("Secrets and the root account")
struct AccessTests {
    @Test func sealedSecretsOpenOnlyWithTheirKeyAndRecord() throws {
        let box = SecretBox(key: SymmetricKey(size: .bits256))
        let sealed = try box.seal("s3cr3t-value", boundTo: "LTAIabc")
        #expect(!sealed.contains("s3cr3t"))
        #expect(try box.open(sealed, boundTo: "LTAIabc") == "s3cr3t-value")
        #expect(throws: VisageError.self) { try box.open(sealed, boundTo: "LTAIother") }
        #expect(throws: VisageError.self) { try SecretBox(key: SymmetricKey(size: .bits256)).open(sealed, boundTo: "LTAIabc") }
    }

    @Test func keyFileIsCreatedPrivateAndReused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("visage-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("secret.key")
        let first = try SecretBox.loadOrCreate(keyFile: file)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let sealed = try first.seal("x", boundTo: "id")
        #expect(try SecretBox.loadOrCreate(keyFile: file).open(sealed, boundTo: "id") == "x")
    }

    @Test("first start creates the root account once; the database alone does not reveal the secret",
          arguments: TestEngine.available)
    func rootBootstrap(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, directory in
            let box = try SecretBox.loadOrCreate(keyFile: directory.appendingPathComponent("secret.key"))
            let file = directory.appendingPathComponent("root-credentials.json")
            let bootstrap = RootBootstrap(directory: AccessKeyDirectory(store: store, box: box), credentialsFile: file)
            let first = try await bootstrap.run(fixedKeyID: nil, fixedSecret: nil)
            #expect(first.created)
            #expect(first.credentials.AccountId.count == 16)
            #expect(first.credentials.AccessKeyId.hasPrefix("LTAI"))
            let onDisk = try JSONDecoder().decode(RootCredentials.self, from: Data(contentsOf: file))
            #expect(onDisk == first.credentials)
            let mode = (try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600)

            let again = try await bootstrap.run(fixedKeyID: nil, fixedSecret: nil)
            #expect(!again.created && again.credentials == first.credentials)

            let stored = try await store.withConnection { db in
                try await db.raw("SELECT secret_sealed FROM access_keys").all().map { try $0.decode(column: "secret_sealed", as: String.self) }
            }
            #expect(stored.count == 1 && !stored[0].contains(first.credentials.AccessKeySecret))
            if case let .sqlite(path) = store.location {
                try await store.withConnection { db in try await db.raw("PRAGMA wal_checkpoint(FULL)").run() }
                let raw = try Data(contentsOf: URL(fileURLWithPath: path))
                #expect(raw.range(of: Data(first.credentials.AccessKeySecret.utf8)) == nil)
            }
        }
    }

    @Test("a fixed key pair from the environment is applied and validated", arguments: TestEngine.available)
    func fixedRootKey(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, directory in
            let box = try SecretBox.loadOrCreate(keyFile: directory.appendingPathComponent("secret.key"))
            let keys = AccessKeyDirectory(store: store, box: box)
            let bootstrap = RootBootstrap(directory: keys, credentialsFile: directory.appendingPathComponent("root.json"))
            let outcome = try await bootstrap.run(fixedKeyID: "AutomationKey01", fixedSecret: "automation-secret-0123456789")
            #expect(outcome.credentials.AccessKeyId == "AutomationKey01")
            #expect(try await keys.key(id: "AutomationKey01")?.secret == "automation-secret-0123456789")
            let rerun = try await bootstrap.run(fixedKeyID: "AutomationKey01", fixedSecret: "automation-secret-0123456789")
            #expect(!rerun.created)
            await #expect(throws: VisageError.self) { try await bootstrap.run(fixedKeyID: "only-id-given", fixedSecret: nil) }
            await #expect(throws: VisageError.self) { try await bootstrap.run(fixedKeyID: "STS.something", fixedSecret: "0123456789abcdefg") }
            await #expect(throws: VisageError.self) { try await bootstrap.run(fixedKeyID: "GoodKeyId", fixedSecret: "short") }
        }
    }
}
