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

/// A tiny blocking HTTP/1.1 client on raw sockets, so the server tests depend neither on FoundationNetworking nor on
/// the server's own stack, and can misbehave as real clients do (stall, half-close, vanish). Each call that waits
/// runs on its own thread, off the cooperative pool.
enum RawHTTPClient {
    /// Sends `GET path` with `Connection: close` and reads the whole response.
    static func get(_ path: String, port: Int) async throws -> RawHTTPResponse {
        try await send(getRequest(path, port: port), port: port)
    }

    /// Sends `request` verbatim and reads until the server closes the connection.
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

    /// A `GET` that asks the server to close the connection after the response.
    static func getRequest(_ path: String, port: Int, method: String = "GET") -> String {
        "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: dabba-tests\r\nConnection: close\r\n\r\n"
    }

    /// Runs `body` on a new thread and returns its result.
    ///
    /// A scenario whose steps must follow one another while the server's clock runs belongs inside one call: every
    /// return to the cooperative pool between steps can wait behind other tasks when the machine is busy.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Opens a blocking TCP connection to 127.0.0.1:`port` with 30 s send and receive timeouts: a guard against a
    /// server that never answers, far above anything a test waits for.
    /// - Parameter receiveBuffer: A receive buffer size to set before connecting (a small one makes a client that
    ///   does not read hold up the server's writes sooner).
    static func connect(port: Int, receiveBuffer: Int32? = nil) throws -> Int32 {
        #if canImport(Glibc)
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let socket = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard socket >= 0 else { throw RawHTTPClientError(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        _ = setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBuffer {
            _ = setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
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

    static func writeAll(_ socket: Int32, _ text: String) throws {
        try writeAll(socket, Array(text.utf8))
    }

    /// Shuts down the sending side: the server reads the end of the stream after what was sent.
    static func halfClose(_ socket: Int32) {
        _ = shutdown(socket, Int32(SHUT_WR))
    }

    /// Closes with a reset (`SO_LINGER` 0), as a client that crashed or lost its network would appear.
    static func abort(_ socket: Int32) {
        var value = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(socket, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
        close(socket)
    }

    /// Whether `socket` has something to read right now (a response, or the end of the stream), without waiting.
    static func hasInput(_ socket: Int32) -> Bool {
        waitForInput(socket, milliseconds: 0)
    }

    /// Waits up to `milliseconds` for something to read (or the end of the stream).
    static func waitForInput(_ socket: Int32, milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    /// Reads until the server closes the connection.
    static func readToEnd(_ socket: Int32) throws -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count == 0 { return data }
            guard count > 0 else { throw RawHTTPClientError(description: "recv: errno \(errno)") }
            data += buffer[..<count]
        }
    }

    /// Reads until the server closes or resets the connection, and returns how many bytes came.
    static func drain(_ socket: Int32) -> Int {
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return total }
            total += count
        }
    }

    /// Reads exactly one response (by its `Content-Length`) and leaves the connection open.
    static func readResponse(_ socket: Int32, bodyExpected: Bool = true) throws -> RawHTTPResponse {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let separator = Array("\r\n\r\n".utf8)
        while true {
            if let end = data.firstRange(of: separator) {
                let head = try parse(Array(data[..<end.upperBound]))
                let length = bodyExpected ? Int(head.headers["content-length"] ?? "0") ?? 0 : 0
                if data.count - end.upperBound >= length {
                    return try parse(Array(data[..<(end.upperBound + length)]))
                }
            }
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else {
                throw RawHTTPClientError(description: "connection ended within a response: \(count), errno \(errno)")
            }
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
