import ArgumentParser
import Foundation
import VisageMedia
import VisageServer
import VisageVision

/// Options for commands that load the face models.
struct EngineOptions: ParsableArguments {
    @Option(help: "OpenVINO inference threads, 0 for its own choice (env VISAGE_INFERENCE_THREADS).")
    var threads: Int?

    func loadEngine() throws -> FaceEngine {
        let threads = threads ?? Environment.value("VISAGE_INFERENCE_THREADS").flatMap(Int.init) ?? 0
        return try FaceEngine.load(threads: threads)
    }
}

/// `visage detect IMAGE...`: faces of each image as IMM's DetectImageFaces would return them.
struct Detect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Detect faces and print, per image, JSON in the shape of IMM's DetectImageFaces response.")

    @OptionGroup var engine: EngineOptions
    @Flag(help: "Add each face's 68 landmarks, embedding and the box given to the landmark model (not IMM fields).")
    var raw = false
    @Argument(help: "Image files.") var images: [String]

    func run() async throws {
        let faces = try engine.loadEngine()
        var failed = false
        for path in images {
            do {
                let analysis = try await faces.analyze(try InputFiles.read(path))
                var figures = analysis.faces.map { Figure.document(id: UUID().uuidString.lowercased(), attributes: $0.attributes).any }
                if raw { figures = zip(figures, analysis.faces).map { Self.withRawFields($0, $1) } }
                let result: [String: Any] = ["SourceURI": URL(fileURLWithPath: path).absoluteString, "Faces": figures]
                let line = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: line, as: UTF8.self))
            } catch {
                failed = true
                let line = error is CommandFailure ? "\(error)" : "\(path): \(error)"
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
        if failed { throw ExitCode(1) }
    }

    /// The figure with the engine's raw outputs added, for checking them against other
    /// implementations.
    static func withRawFields(_ figure: any Sendable, _ face: AnalyzedFace) -> any Sendable {
        guard var figure = figure as? [String: any Sendable] else { return figure }
        figure["Landmarks"] = face.landmarks.map { [$0.x, $0.y] }
        figure["Embedding"] = face.embedding.map(Double.init)
        figure["LandmarkBox"] = face.detection.box.landmarkRectangle
        return figure
    }
}

/// `visage compare A B`: are the (largest) faces of two images the same person?
struct Compare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the largest face of two images: prints {\"Similarity\": s, \"SamePerson\": b}.",
        discussion: """
            With --cohort, the pair is judged against faces of other people like them (a folder of \
            photos of neither person, at least \(FaceComparison.cohortMinimumFaces) faces; a sub-folder \
            holds one person's photos): fewer false matches between look-alike people, more true \
            matches (see docs/face-comparison.md).
            """)

    @OptionGroup var engine: EngineOptions
    @Option(help: "A folder of photos of other people to judge the pair against.") var cohort: String?
    @Argument var first: String
    @Argument var second: String

    func run() async throws {
        let faces = try engine.loadEngine()
        var embeddings: [[Float]] = []
        for path in [first, second] {
            guard let largest = try await faces.analyze(try InputFiles.read(path)).largestFace
            else { throw CommandFailure("no face found in \(path)") }
            embeddings.append(largest.embedding)
        }
        var reference: Cohort?
        if let cohort {
            var members: [(label: String, embedding: [Float])] = []
            let folder = URL(fileURLWithPath: cohort)
            // A photo directly in the folder is a person of its own; a sub-folder is one person.
            var photos: [(label: String, url: URL)] = []
            do {
                for name in try FileManager.default.contentsOfDirectory(atPath: cohort).sorted() {
                    let url = folder.appendingPathComponent(name)
                    var isFolder: ObjCBool = false
                    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
                        let inner = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
                        photos += inner.map { (name, url.appendingPathComponent($0)) }
                    } else {
                        photos.append((name, url))
                    }
                }
            } catch {
                throw CommandFailure("cannot read \(cohort): \(InputFiles.reason(error))")
            }
            // Analysing a folder of photos takes a while: show how far it is.
            let progress = ProgressBar(total: Int64(photos.count), enabled: true, unit: "photos")
            for photo in photos {
                defer { progress.advance(by: 1) }
                // Unreadable or faceless files are simply not part of the cohort.
                guard let bytes = try? Data(contentsOf: photo.url),
                      let analysis = try? await faces.analyze(bytes) else { continue }
                members += analysis.faces.map { (photo.label, $0.embedding) }
            }
            progress.finish()
            guard members.count >= FaceComparison.cohortMinimumFaces else {
                throw CommandFailure("the cohort has \(members.count) faces; at least \(FaceComparison.cohortMinimumFaces) are needed")
            }
            reference = Cohort(members)
        }
        let score = FaceComparison.score(embeddings[0], embeddings[1], cohort: reference)
        let similarity = (FaceComparison.similarity(score: score) * 1000).rounded() / 1000
        print("{\"SamePerson\":\(score < 1),\"Similarity\":\(similarity)}")
    }
}

/// `visage models`: every model, where it comes from, its checksum, and whether it loads.
struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models, their packages, licences, training-data caveats, files, SHA-256 and load status.")

    @Flag(help: "Print JSON instead of a table.") var json = false
    @Option(help: ArgumentHelp("Write dlib's description of the embedding network (net_to_xml) to this file and stop; "
                               + "scripts/convert-models builds the OpenVINO form from it.", visibility: .hidden))
    var writeDlibNetwork: String?

    func run() async throws {
        let catalog = ModelCatalog.discover()
        if let writeDlibNetwork {
            try FaceEmbedder.writeDlibDescription(of: try catalog.url(of: .dlibResNet).path, to: writeDlibNetwork)
            return
        }
        var rows: [[String: String]] = []
        for model in ModelFile.all {
            var row = ["name": model.name, "package": model.package, "purpose": model.purpose, "licence": model.licence,
                       "training_data": model.trainingData]
            do {
                let url = try catalog.url(of: model)
                row["file"] = url.path
                row["sha256"] = try ModelCatalog.sha256(of: url)
                switch model {
                case .centerFace: _ = try FaceDetector.load(from: catalog, concurrency: 1)
                case .dlibLandmarks68, .dlibLandmarks5: _ = try FaceLandmarker(path: url.path)
                case .nudeNet: _ = try BodyPartDetector.load(from: catalog, concurrency: 1)
                case .openNSFW: _ = try ExplicitImageClassifier.load(from: catalog, concurrency: 1)
                case .dlibResNetOpenVINO: _ = try FaceEmbedder(openVINOPath: url.path, concurrency: 1)
                default: _ = try FaceEmbedder(path: url.path, concurrency: 1)
                }
                row["status"] = "loaded"
            } catch {
                row["status"] = "error: \(error)"
            }
            rows.append(row)
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for row in rows {
                print("\(row["name"]!)  [\(row["package"]!)]  \(row["purpose"]!)")
                print("  licence:  \(row["licence"]!)")
                print("  training: \(row["training_data"]!)")
                print("  file:   \(row["file"] ?? "-")")
                print("  sha256: \(row["sha256"] ?? "-")")
                print("  status: \(row["status"]!)")
            }
        }
        if rows.contains(where: { $0["status"] != "loaded" }) { throw ExitCode(1) }
    }
}
