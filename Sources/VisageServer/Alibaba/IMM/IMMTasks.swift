import Foundation
import VisageCore
import VisageMedia

/// GetTask and ListTasks over the project's asynchronous tasks.
extension IMMOperations {
    func getTask(_ call: RPCCall) async throws -> [String: any Sendable] {
        let project = try call.required("ProjectName")
        try authorize(call, "GetTask", project: project)
        let task = try await tasks.task(account: call.caller.accountID, project: project, type: try call.required("TaskType"),
                                        id: try call.required("TaskId"))
        var body = Self.taskInfo(task, definition: try flag(call, "RequestDefinition"))
        body["ProjectName"] = project
        return body
    }

    func listTasks(_ call: RPCCall) async throws -> [String: any Sendable] {
        let project = try call.required("ProjectName")
        try authorize(call, "ListTasks", project: project)
        var listing = TaskListing()
        listing.limit = try maxResults(call, range: 1...100, default: 100)
        if let types = call.optional("TaskTypes") {
            guard let names = JSONValue(parsing: types)?.arrayValue?.compactMap(\.stringValue) else {
                throw VisageError.invalidArgument(field: "TaskTypes", message: "must be a JSON list of task types")
            }
            listing.types = names
        }
        if let status = call.optional("Status") {
            guard let value = MediaTask.Status(rawValue: status) else {
                throw VisageError.invalidArgument(field: "Status", message: "must be Running, Succeeded or Failed")
            }
            listing.status = value
        }
        switch call.optional("Sort") ?? "TaskId" {
        case "TaskId": listing.sortByStart = false
        case "StartTime", "EndTime": listing.sortByStart = true
        default: throw VisageError.invalidArgument(field: "Sort", message: "must be TaskId, StartTime or EndTime")
        }
        switch (call.optional("Order") ?? "asc").lowercased() {
        case "asc": listing.descending = false
        case "desc": listing.descending = true
        default: throw VisageError.invalidArgument(field: "Order", message: "must be asc or desc")
        }
        listing.offset = try call.optional("NextToken").map(Self.offset(token:)) ?? 0
        let page = try await tasks.tasks(account: call.caller.accountID, project: project, listing)
        let definition = try flag(call, "RequestDefinition")
        return ["ProjectName": project, "MaxResults": listing.limit, "Tasks": page.map { Self.taskInfo($0, definition: definition) },
                "NextToken": page.count == listing.limit ? Self.token(offset: listing.offset + listing.limit) : ""]
    }

    static func taskInfo(_ task: MediaTask, definition: Bool) -> [String: any Sendable] {
        var body: [String: any Sendable] = [
            "TaskId": task.id, "TaskType": task.type, "Status": task.status.rawValue, "Code": task.code, "Message": task.message,
            "StartTime": time(task.started), "Progress": task.progress, "UserData": task.userData, "EventId": task.eventID,
            "Tags": JSONValue(parsing: task.tags)?.any ?? [String: String](),
        ]
        if let ended = task.ended { body["EndTime"] = time(ended) }
        if definition { body["TaskRequestDefinition"] = task.requestDefinition }
        return body
    }
}
