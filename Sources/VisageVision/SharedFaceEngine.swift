import Foundation

/// The face engine of a server process, loaded on first use (about a second and 200 MB), so a
/// server that never sees a face request never pays for the models.
public actor SharedFaceEngine {
    private var engine: FaceEngine?
    private let load: @Sendable () throws -> FaceEngine

    public init(load: @escaping @Sendable () throws -> FaceEngine = { try FaceEngine.load() }) {
        self.load = load
    }

    public func get() throws -> FaceEngine {
        if let engine { return engine }
        let loaded = try load()
        engine = loaded
        return loaded
    }
}
