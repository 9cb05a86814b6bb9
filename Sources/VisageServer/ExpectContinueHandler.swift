import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with `100 Continue` as soon as a request's head arrives.
/// boto3 and the AWS CLI send it with every body they upload and wait a second for the answer
/// before sending the body anyway; and when a request is refused before its body is read, a
/// client that never got `100 Continue` keeps the body back, so the server would read the next
/// request as that body. Saying `100 Continue` at once avoids both.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The request goes on unchanged: a client may have signed its Expect header.
        if case let .head(request) = unwrapInboundIn(data), request.headerFields[.expect]?.lowercased() == "100-continue" {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }
}
