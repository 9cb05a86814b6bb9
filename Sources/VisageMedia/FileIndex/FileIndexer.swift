import Foundation
import VisageCore
import VisageStore
import VisageVision

/// What a caller may say about a file when indexing it (IMM's InputFile). Fields the index
/// computes itself (size, image facts, faces) cannot be given.
public struct InputFile: Sendable, Equatable {
    public let uri: String
    /// User-given fields kept as they are (CustomId, CustomLabels, Title…).
    public let given: [String: JSONValue]

    /// String fields a caller may set on a file.
    public static let textFields: Set<String> = [
        "CustomId", "Title", "Album", "AlbumArtist", "Artist", "Composer", "Performer", "ProduceTime", "LatLong", "OSSURI",
    ]

    /// List fields Visage computes or does not keep; accepted only empty.
    static let listFields: Set<String> = ["Addresses", "Figures", "Labels"]

    public init(uri: String, given: [String: JSONValue] = [:]) {
        self.uri = uri
        self.given = given
    }

    /// Reads an InputFile object, refusing unknown fields and values of the wrong type.
    /// `Figures` (faces moved between people) is accepted only where `allowFigures` says so
    /// (UpdateFileMeta).
    public init(_ value: JSONValue, field: String, allowFigures: Bool = false) throws {
        guard let object = value.objectValue else { throw VisageError.invalidArgument(field: field, message: "must be a JSON object") }
        guard let uri = object["URI"]?.stringValue, !uri.isEmpty else {
            throw VisageError.invalidArgument(field: "\(field).URI", message: "is required")
        }
        var given: [String: JSONValue] = [:]
        for (name, member) in object where name != "URI" {
            // The SDKs send their list fields empty when unset.
            if Self.listFields.contains(name), member.arrayValue?.isEmpty == true { continue }
            if allowFigures && name == "Figures" {
                guard member.arrayValue?.allSatisfy({ $0.objectValue != nil }) == true else {
                    throw VisageError.invalidArgument(field: "\(field).Figures", message: "must be a list of objects")
                }
            } else if Self.textFields.contains(name) {
                guard member.stringValue != nil else {
                    throw VisageError.invalidArgument(field: "\(field).\(name)", message: "must be a string")
                }
            } else if name == "CustomLabels" {
                guard let labels = member.objectValue, labels.values.allSatisfy({ $0.stringValue != nil }) else {
                    throw VisageError.invalidArgument(field: "\(field).CustomLabels", message: "must be an object of strings")
                }
            } else {
                throw VisageError.invalidArgument(field: "\(field).\(name)", message: "is not a field Visage accepts")
            }
            given[name] = member
        }
        self.init(uri: uri, given: given)
    }

    /// The Files list of BatchIndexFileMeta. An element whose URI is itself a JSON list of
    /// InputFiles (as some published samples send it) stands for those files.
    public static func list(_ text: String, field: String, limit: Int = 100) throws -> [InputFile] {
        guard let items = JSONValue(parsing: text)?.arrayValue else {
            throw VisageError.invalidArgument(field: field, message: "must be a JSON list of files")
        }
        var files: [InputFile] = []
        for (index, item) in items.enumerated() {
            let name = "\(field)[\(index)]"
            if let uri = item["URI"]?.stringValue, uri.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("["),
               let inner = JSONValue(parsing: uri)?.arrayValue {
                files += try inner.enumerated().map { try InputFile($1, field: "\(name).URI[\($0)]") }
            } else {
                files.append(try InputFile(item, field: name))
            }
        }
        guard !files.isEmpty else { throw VisageError.invalidArgument(field: field, message: "must name at least one file") }
        guard files.count <= limit else { throw VisageError.invalidArgument(field: field, message: "may name at most \(limit) files") }
        return files
    }
}

/// Reads one stored image, analyses it and builds its FileMeta document: the work of indexing
/// one file, whoever asked for it (IndexFileMeta, a binding, `visage index`).
public struct FileIndexer: Sendable {
    let objects: any ObjectStore
    let engine: SharedFaceEngine
    let access: ServiceRoleAccess

    public init(objects: any ObjectStore, engine: SharedFaceEngine, access: ServiceRoleAccess) {
        self.objects = objects
        self.engine = engine
        self.access = access
    }

    /// The file's document and faces. Fails with `VisageError` naming why (missing object,
    /// not an image, too large, not readable by the project's service role).
    public func analyze(_ input: InputFile, project: MediaProject, dataset: MediaDataset) async throws -> IndexedFile {
        let (bucket, key) = try ServiceRoleAccess.ossURI(input.uri, field: "URI")
        let info: ObjectInfo
        do {
            info = try await objects.headObject(bucket: bucket, key: key)
        } catch VisageError.notFound {
            throw VisageError.invalidArgument(field: "URI", message: "File does not exist.")
        }
        try await access.authorizeRead(project: project, bucket: bucket, key: key)
        let faces = try await engine.get()
        guard info.size <= Int64(faces.decoder.maxInputBytes) else {
            throw VisageError.tooLarge(field: "image", limit: faces.decoder.maxInputBytes)
        }
        let bytes = try await objects.getObject(bucket: bucket, key: key, range: nil).collect()
        let analysis: ImageAnalysis
        do {
            analysis = try await faces.analyze(bytes)
        } catch let error as ImageError {
            throw VisageError.invalidArgument(field: "URI", message: "The file is not an image Visage can read: \(error).")
        }
        let (figures, indexedFaces) = Self.faces(of: analysis)
        let header = analysis.header
        var document: [String: JSONValue] = [
            "URI": .string(input.uri),
            "ProjectName": .string(project.name),
            "DatasetName": .string(dataset.name),
            "OwnerId": .string(project.accountID),
            "Filename": .string(String(key.value.split(separator: "/").last ?? Substring(key.value))),
            "Size": .number(Double(info.size)),
            "ContentType": .string(info.contentType.isEmpty ? "image/\(header.format)" : info.contentType),
            "MediaType": .string("image"),
            "ETag": .string("\"\(info.etag.uppercased())\""),
            "FileHash": .string("\"\(info.etag.uppercased())\""),
            "FileModifiedTime": .string(MediaTime.text(info.lastModified)),
            "ImageWidth": .number(Double(analysis.width)),
            "ImageHeight": .number(Double(analysis.height)),
            "Orientation": .number(Double(header.orientation)),
            "EXIF": .string(JSONValue.object(header.exif.mapValues(JSONValue.string)).text),
            "Figures": .array(figures),
            "FigureCount": .number(Double(figures.count)),
            "ImageScore": .object(["OverallQualityScore": .number(Figure.rounded(analysis.overallQuality))]),
        ]
        if let produced = Self.produceTime(header.exif) { document["ProduceTime"] = .string(produced) }
        for (name, value) in input.given { document[name] = value }
        return IndexedFile(uri: input.uri, size: info.size, document: document, faces: indexedFaces)
    }

    /// The analysis's faces as the file's `Figures` and as the face rows clustering reads, each
    /// face under one new id.
    public static func faces(of analysis: ImageAnalysis) -> (figures: [JSONValue], faces: [IndexedFace]) {
        var figures: [JSONValue] = []
        var faces: [IndexedFace] = []
        for face in analysis.faces {
            let id = UUID().uuidString.lowercased()
            figures.append(Figure.document(id: id, attributes: face.attributes))
            faces.append(IndexedFace(figureID: id, embedding: face.embedding, highQuality: Figure.isHighQuality(face.attributes),
                                     quality: face.attributes.faceQuality))
        }
        return (figures, faces)
    }

    /// When the photo was taken: EXIF DateTimeOriginal (else DateTime) with its OffsetTime tag;
    /// without one the time is taken as UTC.
    static func produceTime(_ exif: [String: String]) -> String? {
        guard let taken = exif["DateTimeOriginal"] ?? exif["DateTime"] else { return nil }
        let digits = taken.split(whereSeparator: { !$0.isNumber }).map(String.init)
        guard digits.count >= 6, digits[0].count == 4 else { return nil }
        let offsetTag = (exif["OffsetTimeOriginal"] ?? exif["OffsetTime"] ?? "").trimmingCharacters(in: .whitespaces)
        let offset = offsetTag.range(of: #"^[+-]\d\d:\d\d$"#, options: .regularExpression) != nil ? offsetTag : "Z"
        return "\(digits[0])-\(digits[1])-\(digits[2])T\(digits[3]):\(digits[4]):\(digits[5])\(offset)"
    }
}
