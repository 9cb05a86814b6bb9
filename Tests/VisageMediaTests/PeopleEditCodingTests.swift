import Foundation
import Testing
import VisageCore
@testable import VisageMedia

/// The history's records are JSON of one object with every field any kind uses; rows written
/// that way must read as the edit they record, and rows written now must read the same way.
@Suite("People edits as stored")
struct PeopleEditCodingTests {
    /// A stored record of one kind, and the edit it records.
    struct Stored: Sendable, CustomTestStringConvertible {
        let name: String
        let json: String
        let edit: PeopleEdit
        var testDescription: String { name }
    }

    /// The record shape with its synthesized coding, as the history's rows were written before
    /// edits were an enum.
    struct OneObjectEdit: Codable, Equatable {
        var kind: PeopleEdit.Kind
        var person: String
        var before: PeopleEdit.Part?
        var parts: [PeopleEdit.Part] = []
        var personFaces: [String] = []
        var personExcluded: [String] = []
        var differences: [[String]]?
        var face: String?
        var faceWasPinned = false
        var faceTo: String?
        var other: String?
        var moves: [String: [String]] = [:]
        var renamed: [PeopleEdit.Part] = []
    }

    static let ann = PeopleEdit.Part(id: "Cluster-1", number: 1, name: "Ann", customLabels: ["role": "aunt"], coverFigureID: "f1",
                                     coverPinned: true, created: 1_700_000_000_000, faces: [], pinned: [], excluded: [])
    static let annJSON = """
        {"id":"Cluster-1","number":1,"name":"Ann","customLabels":{"role":"aunt"},"coverFigureID":"f1","coverPinned":true,\
        "created":1700000000000,"faces":[],"pinned":[],"excluded":[]}
        """
    static let bob = PeopleEdit.Part(id: "Cluster-2", number: 2, name: "", customLabels: [:], coverFigureID: nil, coverPinned: false,
                                     created: 5, faces: ["f3", "f4"], pinned: ["f4"], excluded: ["f9"])
    static let bobJSON = """
        {"id":"Cluster-2","number":2,"name":"","customLabels":{},"coverPinned":false,"created":5,\
        "faces":["f3","f4"],"pinned":["f4"],"excluded":["f9"]}
        """
    static let none = ReservedCluster.independent
    /// The fields a kind leaves empty, as the one-object shape always wrote them.
    static let empty = #""personFaces":[],"personExcluded":[],"faceWasPinned":false,"moves":{},"renamed":[]"#

    static let records: [Stored] = [
        Stored(name: "rename", json: #"{"kind":"rename","person":"Cluster-1","before":\#(annJSON),"parts":[],\#(empty)}"#,
               edit: .rename(person: "Cluster-1", before: ann)),
        Stored(name: "merge",
               json: #"""
                   {"kind":"merge","person":"Cluster-1","parts":[\#(bobJSON)],"personFaces":["f1","f2"],"personExcluded":["f8"],\#
                   "differences":[["Cluster-2","Cluster-5"]],"faceWasPinned":false,"moves":{},"renamed":[]}
                   """#,
               edit: .merge(person: "Cluster-1", sources: [bob], personFaces: ["f1", "f2"], personExcluded: ["f8"],
                            differences: [["Cluster-2", "Cluster-5"]], renamed: nil)),
        Stored(name: "merge that gave the person a source's name",
               json: #"""
                   {"kind":"merge","person":"Cluster-1","before":\#(bobJSON),"parts":[\#(bobJSON)],"personFaces":["f1"],\#
                   "personExcluded":[],"faceWasPinned":false,"moves":{},"renamed":[]}
                   """#,
               edit: .merge(person: "Cluster-1", sources: [bob], personFaces: ["f1"], personExcluded: [], differences: nil,
                            renamed: bob)),
        Stored(name: "merge recorded before its differences were kept",
               json: #"""
                   {"kind":"merge","person":"Cluster-1","parts":[\#(bobJSON)],"personFaces":["f1"],"personExcluded":[],\#
                   "faceWasPinned":false,"moves":{},"renamed":[]}
                   """#,
               edit: .merge(person: "Cluster-1", sources: [bob], personFaces: ["f1"], personExcluded: [], differences: nil, renamed: nil)),
        Stored(name: "split", json: #"{"kind":"split","person":"Cluster-1","parts":[\#(bobJSON)],\#(empty)}"#,
               edit: .split(person: "Cluster-1", made: bob)),
        Stored(name: "move",
               json: #"""
                   {"kind":"move","person":"\#(none)","parts":[],"personFaces":[],"personExcluded":[],"face":"f7",\#
                   "faceWasPinned":true,"faceTo":"Cluster-1","moves":{},"renamed":[]}
                   """#,
               edit: .move(person: none, face: "f7", faceWasPinned: true, faceTo: "Cluster-1")),
        Stored(name: "exclude",
               json: #"""
                   {"kind":"exclude","person":"Cluster-1","parts":[],"personFaces":[],"personExcluded":[],"face":"f2",\#
                   "faceWasPinned":false,"faceTo":"\#(none)","moves":{},"renamed":[]}
                   """#,
               edit: .exclude(person: "Cluster-1", face: "f2", faceWasPinned: false, faceTo: none)),
        Stored(name: "apart-faces",
               json: #"""
                   {"kind":"apart-faces","person":"Cluster-1","parts":[],"personFaces":[],"personExcluded":[],"face":"f1",\#
                   "faceWasPinned":false,"other":"f2","moves":{},"renamed":[]}
                   """#,
               edit: .apartFaces(person: "Cluster-1", face: "f1", other: "f2")),
        Stored(name: "different-people",
               json: #"{"kind":"different-people","person":"Cluster-1","parts":[],\#(empty.replacingOccurrences(of: #""moves""#, with: #""other":"Cluster-2","moves""#))}"#,
               edit: .differentPeople(person: "Cluster-1", other: "Cluster-2")),
        Stored(name: "recluster",
               json: #"""
                   {"kind":"recluster","person":"\#(none)","parts":[\#(bobJSON)],"personFaces":[],"personExcluded":[],\#
                   "faceWasPinned":false,"moves":{"f1":["Cluster-2","Cluster-1"],"f6":["","Cluster-1"],"f7":["Cluster-1",""]},\#
                   "renamed":[\#(annJSON)]}
                   """#,
               edit: .recluster(removed: [bob], renamed: [ann], moves: [
                   "f1": .init(from: "Cluster-2", to: "Cluster-1"), "f6": .init(from: "", to: "Cluster-1"),
                   "f7": .init(from: "Cluster-1", to: ""),
               ])),
    ]

    static func decode<Value: Decodable>(_ json: String, as type: Value.Type = PeopleEdit.self) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(json.utf8))
    }

    static func text(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    @Test("every kind covered")
    func everyKind() {
        #expect(Set(Self.records.map(\.edit.kind.rawValue))
            == ["rename", "merge", "split", "move", "exclude", "apart-faces", "different-people", "recluster"])
    }

    @Test("a stored record reads as the edit it records", arguments: records)
    func readsStored(_ stored: Stored) throws {
        #expect(try Self.decode(stored.json) == stored.edit)
    }

    @Test("an edit writes the stored shape, field for field, and reads back the same", arguments: records)
    func roundTrips(_ stored: Stored) throws {
        let written = try Self.text(stored.edit)
        #expect(JSONValue(parsing: written) == JSONValue(parsing: stored.json))
        #expect(try Self.decode(written) == stored.edit)
    }

    @Test("a record written now reads with the one-object shape's own coding, and back", arguments: records)
    func interchangeable(_ stored: Stored) throws {
        let old = try Self.decode(try Self.text(stored.edit), as: OneObjectEdit.self)
        #expect(old == (try Self.decode(stored.json, as: OneObjectEdit.self)))
        #expect(try Self.decode(try Self.text(old)) == stored.edit)
    }

    @Test("the page's fields come from the edit", arguments: records)
    func accessors(_ stored: Stored) throws {
        let old = try Self.decode(stored.json, as: OneObjectEdit.self)
        #expect(stored.edit.kind == old.kind)
        #expect(stored.edit.person == old.person)
        #expect(stored.edit.parts == old.parts)
        #expect(stored.edit.face == old.face)
        #expect(stored.edit.faceTo == old.faceTo)
        #expect(stored.edit.other == old.other)
        #expect(stored.edit.nameBefore == old.before?.name)
    }

    @Test("a record missing a field its kind needs is refused, saying which", arguments: [
        (#"{"kind":"rename","person":"Cluster-1","parts":[],\#(empty)}"#, "an edit of kind rename needs before"),
        (#"{"kind":"merge","person":"Cluster-1","parts":[],"personExcluded":[],"faceWasPinned":false,"moves":{},"renamed":[]}"#,
         "an edit of kind merge needs personFaces"),
        (#"{"kind":"split","person":"Cluster-1","parts":[],\#(empty)}"#, "an edit of kind split needs the one person it made in parts, not 0"),
        (#"{"kind":"move","person":"Cluster-1","parts":[],"faceTo":"Cluster-2",\#(empty)}"#, "an edit of kind move needs face"),
        (#"{"kind":"exclude","person":"Cluster-1","parts":[],"face":"f1",\#(empty)}"#, "an edit of kind exclude needs faceTo"),
        (#"{"kind":"apart-faces","person":"Cluster-1","parts":[],"face":"f1",\#(empty)}"#, "an edit of kind apart-faces needs other"),
        (#"{"kind":"different-people","parts":[],"other":"Cluster-2",\#(empty)}"#, "an edit of kind different-people needs person"),
        (#"{"kind":"recluster","person":"x","parts":[],"personFaces":[],"personExcluded":[],"faceWasPinned":false,"renamed":[]}"#,
         "an edit of kind recluster needs moves"),
        (#"{"kind":"recluster","person":"x","parts":[],\#(empty.replacingOccurrences(of: "{}", with: #"{"f1":["Cluster-1"]}"#))}"#,
         "a re-clustering's face move is [from, to], not 1 values"),
    ])
    func refusesIncomplete(_ json: String, _ message: String) {
        #expect {
            _ = try Self.decode(json)
        } throws: { error in
            error is DecodingError && "\(error)".contains(message)
        }
    }
}
