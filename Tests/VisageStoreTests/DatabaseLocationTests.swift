import Testing
import VisageCore
import VisageStore

@Suite("Database URLs")
struct DatabaseLocationTests {
    @Test func parsesPostgresAndSQLite() throws {
        #expect(try DatabaseLocation(url: "postgres://u:p%40ss@db.local:6543/visage")
                == .postgres(host: "db.local", port: 6543, user: "u", password: "p@ss", database: "visage"))
        #expect(try DatabaseLocation(url: "postgresql://u@127.0.0.1/v")
                == .postgres(host: "127.0.0.1", port: 5432, user: "u", password: nil, database: "v"))
        #expect(try DatabaseLocation(url: "sqlite:///var/lib/visage/meta.db") == .sqlite(path: "/var/lib/visage/meta.db"))
        #expect(try DatabaseLocation(url: "postgres://u:secret@h/d").redacted == "postgres://u@h:5432/d")
    }

    @Test func refusesOthers() {
        for bad in ["mysql://h/d", "postgres://h", "not a url", "postgres:///d"] {
            #expect(throws: VisageError.self) { try DatabaseLocation(url: bad) }
        }
    }
}
