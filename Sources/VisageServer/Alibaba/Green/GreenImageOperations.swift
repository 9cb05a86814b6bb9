import Foundation
import VisageCore
import VisageJobs
import VisageMedia
import VisageVision

/// Content Moderation's image operations over the core's face comparisons.
struct GreenImageOperations: Sendable {
    let comparisons: FaceComparisons
    let outbox: NotificationOutbox
    /// The moderation models, for scene `porn`.
    let moderator: SharedContentModerator
    /// Checks a URL of this server's object API as a GET of it would be checked; nil when the
    /// URL is not this server's.
    let ownObject: @Sendable (_ url: URL, _ call: GreenCall) async throws -> ImageSource?
    /// How long a synchronous scan waits for its comparisons.
    var syncLimit: Duration = .seconds(6)
    static let origin = "green"

    /// `POST /green/image/asyncscan`: queues each valid task; a refused task gets its own code.
    func asyncScan(_ call: GreenCall) async throws -> [any Sendable] {
        let request = try GreenScanRequest.parse(call.body, synchronous: false)
        var callback: ComparisonCallback?
        if let url = request.callback {
            let target: NotificationTarget
            do {
                target = try await outbox.webhook(url, field: "callback")
            } catch let error as VisageError {
                throw GreenCode.badRequest.error("\(error)")
            }
            let data = try JSONEncoder().encode(GreenCallbacks.Data(seed: request.seed ?? "", cryptType: request.cryptType))
            callback = ComparisonCallback(target: target, data: String(decoding: data, as: UTF8.self))
        }
        let (items, accepted) = try await prepare(request.tasks, call: call)
        let ids = try await comparisons.submit(accepted.map(\.submission), accountID: call.caller.accountID, origin: Self.origin,
                                               idPrefix: "img", callback: callback, requestID: call.requestID)
        var data = items
        for (pending, id) in zip(accepted, ids) {
            data[pending.index] = GreenResults.item(code: .ok, taskID: id, reference: pending.reference)
        }
        return data.map { $0 as any Sendable }
    }

    /// `POST /green/image/results`: a JSON array of task ids, each answered with its result,
    /// 280 while it runs, 594 once its result is no longer kept.
    func results(_ call: GreenCall) async throws -> [any Sendable] {
        guard let ids = (try? JSONSerialization.jsonObject(with: Data(call.body))) as? [Any], ids.allSatisfy({ $0 is String }) else {
            throw GreenCode.badRequest.error("the body must be a JSON array of task ids")
        }
        let taskIDs = ids.map { $0 as! String }
        guard !taskIDs.isEmpty, taskIDs.count <= GreenScanRequest.maxTasks else {
            throw GreenCode.badRequest.error("1 to \(GreenScanRequest.maxTasks) task ids per request")
        }
        let records = try await comparisons.records(taskIDs, accountID: call.caller.accountID)
        return taskIDs.map { id in
            records[id].map(GreenResults.item) ?? GreenResults.item(code: .notFound, detail: "no task \(id) of this account", taskID: id,
                                                                    reference: nil)
        }
    }

    /// `POST /green/image/scan`: the same tasks compared at once, each within the time a
    /// synchronous call waits (581 TIMEOUT for those that do not finish); scene `porn` moderates
    /// each task's image instead.
    func scan(_ call: GreenCall) async throws -> [any Sendable] {
        let request = try GreenScanRequest.parse(call.body, synchronous: true)
        if request.scenes.contains(GreenModeration.scene) { return try await moderationScan(request, call: call) }
        let (items, accepted) = try await prepare(request.tasks, call: call)
        var data = items
        let comparison = comparisons.comparison
        let outcomes = accepted.isEmpty ? [:] : await withTaskGroup(of: (Int, ComparisonOutcome).self) { group -> [Int: ComparisonOutcome] in
            for pending in accepted {
                group.addTask {
                    (pending.index, await comparison.compare(pending.submission.first, pending.submission.second))
                }
            }
            group.addTask {
                try? await Task.sleep(for: syncLimit)
                return (-1, .failed(.timedOut))
            }
            var outcomes: [Int: ComparisonOutcome] = [:]
            while let (index, outcome) = await group.next() {
                if index < 0 { break }
                outcomes[index] = outcome
                if outcomes.count == accepted.count { break }
            }
            group.cancelAll()
            return outcomes
        }
        for pending in accepted {
            data[pending.index] = GreenResults.item(outcomes[pending.index] ?? .failed(.timedOut), taskID: nil,
                                                    reference: pending.reference)
        }
        return data.map { $0 as any Sendable }
    }

    /// A task that may run, with its place in the request.
    struct Pending: Sendable {
        let index: Int
        let submission: ComparisonSubmission
        let reference: GreenResults.Reference
    }

    /// Each task's refusal item (in request order) and the tasks that may run. URLs of this
    /// server's objects are checked as their GET would be and then read from the store directly.
    private func prepare(_ tasks: [GreenScanRequest.Task], call: GreenCall) async throws -> ([[String: any Sendable]], [Pending]) {
        var items: [[String: any Sendable]] = []
        var accepted: [Pending] = []
        for (index, task) in tasks.enumerated() {
            guard task.refusal == nil, let reference = task.reference, let face = task.extras["faceUrl"] else {
                items.append(GreenResults.item(code: .badRequest, detail: task.refusal, taskID: nil, reference: task.reference))
                continue
            }
            do {
                let first = try await source(reference.url, call: call, image: 1)
                let second = try await source(face, call: call, image: 2)
                let referenceText = String(decoding: try JSONEncoder().encode(reference), as: UTF8.self)
                accepted.append(Pending(index: index, submission: ComparisonSubmission(reference: referenceText, first: first, second: second),
                                        reference: reference))
                items.append([:])
            } catch let failure as ComparisonFailure {
                let (code, detail) = GreenResults.code(for: failure)
                items.append(GreenResults.item(code: code, detail: detail, taskID: nil, reference: reference))
            } catch let error as WireError {
                items.append(GreenResults.item(code: .forbidden, detail: error.message, taskID: nil, reference: reference))
            }
        }
        return (items, accepted)
    }

    /// Where an image comes from: this server's object (checked now) or the web (fetched later).
    func source(_ url: String, call: GreenCall, image: Int) async throws -> ImageSource {
        let web = ImageSource.web(url)
        if let problem = comparisons.comparison.validate(web) { throw ComparisonFailure.fetch(image: image, problem) }
        guard let parsed = URL(string: url) else { throw ComparisonFailure.fetch(image: image, .badURL("not a URL")) }
        do {
            return try await ownObject(parsed, call) ?? web
        } catch VisageError.notFound {
            throw ComparisonFailure.objectMissing(image: image)
        } catch let error as VisageError {
            throw WireError(status: .forbidden, code: "Forbidden", message: "\(image == 1 ? "url" : "extras.faceUrl"): \(error)")
        } catch let error as WireError {
            throw WireError(status: error.status, code: error.code, message: "\(image == 1 ? "url" : "extras.faceUrl"): \(error.message)")
        }
    }
}
