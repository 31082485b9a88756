import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1 child channel with a ``ConnectionGuard`` right after the HTTP decoder.
///
/// `HTTP1Channel.Configuration.additionalChannelHandlers` would place the guard after the conversion to HTTP types,
/// where the request's HTTP version (needed to honour HTTP/1.0's close-by-default) is no longer known.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let requestTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let requestTimeout = requestTimeout
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(
                ConnectionGuard(timeout: requestTimeout, logger: logger),
                position: .after(decoder)
            )
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
