import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A response as read off the wire by ``RawHTTPClient``.
struct RawHTTPResponse: Sendable {
    var statusLine: String
    var status: Int
    /// Header names lower-cased.
    var headers: [String: String]
    var body: String
}

struct RawHTTPClientError: Error, CustomStringConvertible {
    var description: String
}

/// A tiny blocking HTTP client on raw sockets, so the server tests depend on neither FoundationNetworking nor the
/// server's own code. Each call runs on its own thread, off the cooperative pool.
enum RawHTTPClient {
    /// Sends `GET path` and reads the whole response (the server closes the connection after it).
    static func get(_ path: String, port: Int) async throws -> RawHTTPResponse {
        try await send(getRequest(path, port: port), port: port)
    }

    /// Sends `request` verbatim and reads the whole response.
    static func send(_ request: String, port: Int) async throws -> RawHTTPResponse {
        try await offPool { try exchange(request, port: port) }
    }

    /// ``send(_:port:)`` on the calling thread, for scenarios that run whole inside one ``offPool(_:)``.
    static func exchange(_ request: String, port: Int) throws -> RawHTTPResponse {
        let socket = try connect(port: port)
        defer { close(socket) }
        try writeAll(socket, Array(request.utf8))
        return try parse(readToEnd(socket))
    }

    /// The request ``get(_:port:)`` sends.
    static func getRequest(_ path: String, port: Int) -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: dabba-tests\r\n\r\n"
    }

    /// Runs `body` on a new thread and returns its result.
    ///
    /// A scenario whose steps must follow one another while the server's clock runs (a client that must still be
    /// waiting when another is answered) belongs inside one call: every return to the cooperative pool between
    /// steps can wait seconds behind other suites' tasks when the whole test run shares two cores.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Opens a blocking TCP connection to 127.0.0.1:`port` with 30 s send and receive timeouts: a guard against a
    /// server that never answers, far above any answer a test waits for (the latest, a 408, is due after 2 s).
    static func connect(port: Int) throws -> Int32 {
        #if canImport(Glibc)
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let socket = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard socket >= 0 else { throw RawHTTPClientError(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        _ = setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(socket, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                #if canImport(Glibc)
                Glibc.connect(socket, address, socklen_t(MemoryLayout<sockaddr_in>.size))
                #else
                Darwin.connect(socket, address, socklen_t(MemoryLayout<sockaddr_in>.size))
                #endif
            }
        }
        guard result == 0 else {
            let code = errno
            close(socket)
            throw RawHTTPClientError(description: "connect to 127.0.0.1:\(port): errno \(code)")
        }
        return socket
    }

    static func writeAll(_ socket: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            #if canImport(Glibc)
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            #else
            let sent = bytes[offset...].withUnsafeBytes { Darwin.send(socket, $0.baseAddress, $0.count, 0) }
            #endif
            guard sent > 0 else { throw RawHTTPClientError(description: "send: errno \(errno)") }
            offset += sent
        }
    }

    /// Whether `socket` has something to read right now (a response, or the end of the stream), without waiting.
    static func hasInput(_ socket: Int32) -> Bool {
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    /// Reads until the server closes the connection.
    static func readToEnd(_ socket: Int32) throws -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count == 0 { return data }
            guard count > 0 else { throw RawHTTPClientError(description: "recv: errno \(errno)") }
            data += buffer[..<count]
        }
    }

    static func parse(_ bytes: [UInt8]) throws -> RawHTTPResponse {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else {
            throw RawHTTPClientError(description: "no end of head in \(text.debugDescription)")
        }
        let headLines = text[..<headEnd.lowerBound].components(separatedBy: "\r\n")
        let statusLine = headLines.first ?? ""
        let statusParts = statusLine.split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw RawHTTPClientError(description: "bad status line \(statusLine.debugDescription)")
        }
        var headers: [String: String] = [:]
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return RawHTTPResponse(
            statusLine: statusLine,
            status: status,
            headers: headers,
            body: String(text[headEnd.upperBound...])
        )
    }
}
