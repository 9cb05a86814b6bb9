import Foundation

/// The body of `/green/image/asyncscan` and `/green/image/scan`, checked: scenes, the optional
/// callback with its seed and hash, and up to 100 tasks (each checked on its own, so one bad task
/// does not refuse the others).
struct GreenScanRequest: Sendable {
    /// One task as sent.
    struct Task: Sendable {
        let dataID: String?
        let url: String?
        let extras: [String: String]
        /// Why the task is refused before anything is fetched (nil: it may run).
        var refusal: String?

        var reference: GreenResults.Reference? {
            url.map { GreenResults.Reference(dataId: dataID, url: $0, extras: extras) }
        }
    }

    static let maxTasks = 100
    static let topLevelFields: Set = ["bizType", "scenes", "callback", "seed", "cryptType", "tasks"]
    static let taskFields: Set = ["dataId", "url", "extras", "time"]

    let scenes: [String]
    let callback: String?
    let seed: String?
    let cryptType: String
    var tasks: [Task]

    static func parse(_ body: [UInt8], synchronous: Bool) throws -> GreenScanRequest {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw GreenCode.badRequest.error("the body must be a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !topLevelFields.contains($0) }) {
            throw GreenCode.badRequest.error("unknown field \(unknown)")
        }
        guard let scenes = object["scenes"] as? [String], !scenes.isEmpty else {
            throw GreenCode.badRequest.error("scenes must be a non-empty list of scene names")
        }
        if object["bizType"] != nil, !(object["bizType"] is String) { throw GreenCode.badRequest.error("bizType must be a string") }
        let callback = try string(object, "callback")
        let seed = try string(object, "seed")
        let cryptType = try string(object, "cryptType") ?? "SHA256"
        if synchronous, callback != nil { throw GreenCode.badRequest.error("a synchronous scan answers at once and takes no callback") }
        guard cryptType == "SHA256" || cryptType == "SM3" else { throw GreenCode.badRequest.error("cryptType must be SHA256 or SM3") }
        if callback != nil {
            guard let seed else { throw GreenCode.badRequest.error("seed is required with a callback") }
            guard !seed.isEmpty, seed.count <= 64, seed.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw GreenCode.badRequest.error("seed must be 1 to 64 letters, digits or underscores")
            }
        }
        guard let rawTasks = object["tasks"] as? [Any], !rawTasks.isEmpty else {
            throw GreenCode.badRequest.error("tasks must be a non-empty list")
        }
        guard rawTasks.count <= maxTasks else {
            throw GreenCode.badRequest.error("at most \(maxTasks) tasks per request; \(rawTasks.count) were sent")
        }
        let offered: Set = [GreenResults.scene, GreenModeration.scene]
        let unsupported = scenes.filter { !offered.contains($0) }
        let moderation = scenes.contains(GreenModeration.scene)
        if moderation, scenes.contains(GreenResults.scene) {
            throw GreenCode.badRequest.error("scenes \(GreenModeration.scene) and \(GreenResults.scene) take different tasks: send them in separate requests")
        }
        if moderation, !synchronous {
            throw GreenCode.badRequest.error("scene \(GreenModeration.scene) is answered by /green/image/scan on this server, not asynchronously")
        }
        var seen: Set<String> = []
        let tasks = rawTasks.map { raw -> Task in
            var task = self.task(raw, needsFace: !moderation)
            if task.refusal == nil, let dataID = task.dataID, !seen.insert(dataID).inserted {
                task.refusal = "dataId \(dataID) is used by another task of this request"
            }
            if task.refusal == nil, !unsupported.isEmpty {
                task.refusal = "scene \(unsupported.joined(separator: ", ")) is not offered by this server; it offers \(GreenResults.scene) and \(GreenModeration.scene)"
            }
            return task
        }
        return GreenScanRequest(scenes: scenes, callback: callback, seed: seed, cryptType: cryptType, tasks: tasks)
    }

    private static func string(_ object: [String: Any], _ name: String) throws -> String? {
        guard let value = object[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw GreenCode.badRequest.error("\(name) must be a string") }
        return text.isEmpty ? nil : text
    }

    /// One task; `needsFace`: a face comparison, whose second image is `extras.faceUrl`.
    private static func task(_ raw: Any, needsFace: Bool) -> Task {
        guard let object = raw as? [String: Any] else {
            return Task(dataID: nil, url: nil, extras: [:], refusal: "each task must be a JSON object")
        }
        let dataID = object["dataId"] as? String
        let url = object["url"] as? String
        var extras: [String: String] = [:]
        func refused(_ why: String) -> Task { Task(dataID: dataID, url: url, extras: extras, refusal: why) }
        if let unknown = object.keys.sorted().first(where: { !taskFields.contains($0) }) { return refused("unknown task field \(unknown)") }
        if object["dataId"] != nil, dataID == nil { return refused("dataId must be a string") }
        if let dataID, dataID.count > 128 { return refused("dataId is longer than 128 characters") }
        if let given = object["extras"] {
            guard let fields = given as? [String: Any], fields.values.allSatisfy({ $0 is String }) else {
                return refused("extras must be an object of strings")
            }
            extras = fields.mapValues { $0 as! String }
        }
        guard let url, !url.isEmpty else { return refused("url is required: the first image") }
        if needsFace, extras["faceUrl"]?.isEmpty != false { return refused("extras.faceUrl is required: the image compared with url") }
        return Task(dataID: dataID, url: url, extras: extras, refusal: nil)
    }
}
