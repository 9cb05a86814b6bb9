import Foundation
import Testing
import VisageCore
import VisageMedia
import VisageStore
import SQLKit
import VisageTestSupport

@Suite("File metadata index and SimpleQuery")
struct MetaQueryTests {
    let dataset = DatasetKey(accountID: "1", project: "p", dataset: "d")

    /// Five files with sizes, names, labels and two faces each (quality, type).
    func seed(_ store: MetadataStore) async throws -> FileIndex {
        try await MediaFixtures.dataset(dataset, in: store)
        let index = FileIndex(store: store)
        let files: [(String, Double, String?, [(Double, String)])] = [
            ("a.jpg", 100, "Summer", [(0.9, "face"), (0.1, "other")]),
            ("b.JPG", 250, nil, [(0.2, "face"), (0.95, "other")]),
            ("c.png", 250, "summer holiday", [(0.85, "face"), (0.86, "face")]),
            ("dir/d.jpg", 4000, "winter", []),
            ("dir/e_1%.jpg", 7, nil, [(0.5, "face"), (0.5, "face")]),
        ]
        for (name, size, album, faces) in files {
            var document: [String: JSONValue] = [
                "URI": .string("oss://b/\(name)"), "Filename": .string(name), "Size": .number(size),
                "Figures": .array(faces.map { .object(["FaceQuality": .number($0.0), "FigureType": .string($0.1)]) }),
                "FigureCount": .number(Double(faces.count)),
            ]
            if let album { document["CustomLabels"] = .object(["album": .string(album)]) }
            let file = IndexedFile(uri: "oss://b/\(name)", size: Int64(size), document: document, faces: [])
            try await store.withTransaction { db in
                try await index.write(file, dataset: dataset, now: 1_000, db: db)
            }
        }
        return index
    }

    func names(_ index: FileIndex, _ query: String?, sort: [(String, Bool)] = [], limit: Int = 100, offset: Int = 0)
        async throws -> [String]
    {
        var search = MetaSearch(condition: try query.map { try MetaCondition(parsing: $0) })
        search.sort = sort.map { (field: $0.0, ascending: $0.1) }
        search.limit = limit
        search.offset = offset
        return try await index.search(dataset: dataset, search).documents.compactMap { $0["Filename"]?.stringValue }
    }

    @Test("conditions, sorting and paging", arguments: TestEngine.available)
    func conditions(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            let index = try await seed(store)
            #expect(try await names(index, #"{"Field":"Size","Operation":"eq","Value":"250"}"#) == ["b.JPG", "c.png"])
            #expect(try await names(index, #"{"Field":"Size","Operation":"gt","Value":"100"}"#) == ["b.JPG", "c.png", "dir/d.jpg"])
            #expect(try await names(index, #"{"Field":"Size","Operation":"lte","Value":100}"#) == ["a.jpg", "dir/e_1%.jpg"])
            #expect(try await names(index, #"{"Field":"Filename","Operation":"prefix","Value":"dir/"}"#) == ["dir/d.jpg", "dir/e_1%.jpg"])
            // match is case-insensitive and takes % and _ literally.
            #expect(try await names(index, #"{"Field":"Filename","Operation":"match","Value":".jpg"}"#)
                == ["a.jpg", "b.JPG", "dir/d.jpg", "dir/e_1%.jpg"])
            #expect(try await names(index, #"{"Field":"Filename","Operation":"match-phrase","Value":"_1%"}"#) == ["dir/e_1%.jpg"])
            #expect(try await names(index, #"{"Field":"CustomLabels.album","Operation":"exist"}"#) == ["a.jpg", "c.png", "dir/d.jpg"])
            #expect(try await names(index, #"{"Operation":"not","SubQueries":[{"Field":"CustomLabels.album","Operation":"exist"}]}"#)
                == ["b.JPG", "dir/e_1%.jpg"])
            #expect(try await names(index, """
                {"Operation":"and","SubQueries":[{"Field":"Size","Operation":"gte","Value":"100"},
                 {"Operation":"or","SubQueries":[{"Field":"Filename","Operation":"eq","Value":"a.jpg"},
                                                  {"Field":"CustomLabels.album","Operation":"match","Value":"HOLIDAY"}]}]}
                """) == ["a.jpg", "c.png"])
            // Any element matches without nested; with nested one element must match every part.
            let crossed = #"[{"Field":"Figures.FaceQuality","Operation":"gte","Value":"0.8"},{"Field":"Figures.FigureType","Operation":"eq","Value":"other"}]"#
            #expect(try await names(index, #"{"Operation":"and","SubQueries":\#(crossed)}"#) == ["a.jpg", "b.JPG"])
            #expect(try await names(index, #"{"Field":"Figures","Operation":"nested","SubQueries":\#(crossed)}"#) == ["b.JPG"])
            #expect(try await names(index, nil, sort: [("Size", false), ("Filename", true)])
                == ["dir/d.jpg", "b.JPG", "c.png", "a.jpg", "dir/e_1%.jpg"])
            #expect(try await names(index, nil, sort: [("Size", true)], limit: 2, offset: 2) == ["b.JPG", "c.png"])
            let page = try await index.search(dataset: dataset, { var s = MetaSearch(condition: nil); s.limit = 4; return s }())
            #expect(page.total == 5 && page.nextOffset == 4 && page.documents.count == 4)
            let other = DatasetKey(accountID: "1", project: "p", dataset: "other")
            #expect(try await index.search(dataset: other, MetaSearch(condition: nil)).total == 0)
        }
    }

    @Test("aggregations over the matching files", arguments: TestEngine.available)
    func aggregations(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            let index = try await seed(store)
            var search = MetaSearch(condition: try MetaCondition(parsing: #"{"Field":"Size","Operation":"gte","Value":"100"}"#))
            search.aggregations = try MetaAggregation.list(parsing: """
                [{"Field":"Size","Operation":"sum"},{"Field":"Size","Operation":"average"},{"Field":"Size","Operation":"max"},
                 {"Field":"Size","Operation":"min"},{"Field":"Size","Operation":"count"},{"Field":"Size","Operation":"distinct"},
                 {"Field":"FigureCount","Operation":"group"},{"Field":"Figures.FigureType","Operation":"group"}]
                """)
            let results = try await index.search(dataset: dataset, search).aggregations
            #expect(results.map(\.value).prefix(6) == [4600, 1150, 4000, 100, 4, 3])
            #expect(results[6].groups.map(\.value) == ["2", "0"] && results[6].groups.map(\.count) == [3, 1])
            #expect(results[7].groups.map(\.value) == ["face", "other"] && results[7].groups.map(\.count) == [3, 2])
        }
    }

    @Test("rewrites keep ObjectId, CreateTime and user labels; deletes remove every trace", arguments: TestEngine.available)
    func rewrites(engine: TestEngine) async throws {
        try await engine.withFreshStore { store, _ in
            let index = try await seed(store)
            try await index.update(dataset: dataset, uri: "oss://b/b.JPG", customLabels: ["album": "kept"], customID: "x1")
            try await store.withTransaction { db in
                try await index.write(IndexedFile(uri: "oss://b/b.JPG", size: 1, document: ["Filename": .string("b.JPG")], faces: []),
                                      dataset: dataset, now: 5_000, db: db)
            }
            let document = try #require(try await index.document(dataset: dataset, uri: "oss://b/b.JPG"))
            #expect(document["ObjectId"]?.stringValue == FileIndex.objectID(dataset, uri: "oss://b/b.JPG"))
            #expect(document["CreateTime"]?.stringValue == MediaTime.text(millis: 1_000))
            #expect(document["UpdateTime"]?.stringValue == MediaTime.text(millis: 5_000))
            #expect(document["CustomLabels"]?["album"]?.stringValue == "kept" && document["CustomId"]?.stringValue == "x1")
            #expect(try await names(index, #"{"Field":"CustomLabels.album","Operation":"eq","Value":"kept"}"#) == ["b.JPG"])
            #expect(try await index.delete(dataset: dataset, uri: "oss://b/b.JPG"))
            #expect(try await !index.delete(dataset: dataset, uri: "oss://b/b.JPG"))
            #expect(try await names(index, #"{"Field":"CustomLabels.album","Operation":"exist"}"#) == ["a.jpg", "c.png", "dir/d.jpg"])
        }
    }

    @Test("malformed queries name the faulty part")
    func refusals() {
        let cases = [
            ("{", "Query"), (#"{"Field":"Size","Operation":"near","Value":"1"}"#, "Query.Operation"),
            (#"{"Field":"Size","Operation":"eq"}"#, "Query.Value"), (#"{"Operation":"or","SubQueries":[]}"#, "Query.SubQueries"),
            (#"{"Operation":"and","SubQueries":[{"Field":"","Operation":"eq","Value":"1"}]}"#, "Query.SubQueries[0].Field"),
            (#"{"Field":"Size","Operation":"eq","Value":"1","Extra":1}"#, "Query.Extra"), ("[]", "Query"),
        ]
        for (text, field) in cases {
            #expect(throws: VisageError.self) { try MetaCondition(parsing: text) }
            do {
                _ = try MetaCondition(parsing: text)
            } catch let VisageError.invalidArgument(named, _) {
                #expect(named == field, "\(text)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}

/// Account, project and dataset rows for tests that write file metadata.
enum MediaFixtures {
    static func dataset(_ key: DatasetKey, in store: MetadataStore) async throws {
        try await store.withConnection { db in
            try await db.raw("INSERT INTO accounts (id, name, created_at) VALUES (\(bind: key.accountID), 'test', 0)").run()
        }
        _ = try await ProjectCatalog(store: store).create(account: key.accountID, name: key.project, description: nil,
                                                          serviceRole: nil, templateID: nil)
        _ = try await DatasetCatalog(store: store).create(account: key.accountID, project: key.project, name: key.dataset,
                                                          changes: DatasetChanges())
    }
}
