internal import CRDKafka

extension KafkaProducer {
    /// Begins a transaction. The first call registers the ``ProducerConfiguration/transactionalID`` with the
    /// broker (fencing any older producer with the same id) and waits for that.
    /// - Throws: ``KafkaError`` `invalidState` without a transactional id, `fenced`, or a transaction error.
    public func beginTransaction() async throws {
        try await initializeTransactionsIfNeeded()
        if let error = rd_kafka_begin_transaction(client.pointer) {
            throw KafkaError(consuming: error, context: "could not begin a transaction")
        }
    }

    /// Adds a consumer's positions to the current transaction, so they are committed if and only if the
    /// transaction commits (exactly-once consume-transform-produce).
    /// - Parameters:
    ///   - offsets: For each input partition, the next offset to read (last processed + 1).
    ///   - group: The consuming group's metadata, from ``KafkaConsumer/groupMetadata()``.
    ///   - timeout: How long to wait for the group coordinator.
    /// - Throws: ``KafkaError`` (see ``KafkaError/requiresAbort``).
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartitionOffset],
        group: ConsumerGroupMetadata,
        timeout: Duration = .seconds(30)
    ) async throws {
        let client = self.client
        try await Blocking.run {
            try TopicPartitionList.with(offsets) { list in
                if let error = rd_kafka_send_offsets_to_transaction(
                    client.pointer, list, group.pointer, Int32(clamping: timeout.milliseconds)
                ) {
                    throw KafkaError(consuming: error, context: "could not send offsets to the transaction")
                }
            }
        }
    }

    /// Commits the current transaction: its messages become visible to `read_committed` consumers and its offsets
    /// are committed. Retriable failures are retried until `timeout`.
    /// - Parameter timeout: How long to wait (includes flushing the transaction's messages).
    /// - Throws: ``KafkaError``; when ``KafkaError/requiresAbort`` is true, call ``abortTransaction(timeout:)``.
    public func commitTransaction(timeout: Duration = .seconds(60)) async throws {
        try await retryingTransactionCall(timeout: timeout, context: "could not commit the transaction") {
            rd_kafka_commit_transaction($0, $1)
        }
    }

    /// Aborts the current transaction: its messages are never visible to `read_committed` consumers.
    /// - Parameter timeout: How long to wait.
    /// - Throws: ``KafkaError`` if the abort fails.
    public func abortTransaction(timeout: Duration = .seconds(60)) async throws {
        try await retryingTransactionCall(timeout: timeout, context: "could not abort the transaction") {
            rd_kafka_abort_transaction($0, $1)
        }
    }

    /// Runs `body` inside a transaction: commits if it returns, aborts if it throws (then rethrows).
    /// - Parameter body: The work whose messages (and offsets) are committed atomically.
    /// - Returns: What `body` returns.
    /// - Throws: `body`'s error, or a ``KafkaError`` from the transaction itself (after aborting when required).
    public func withTransaction<Result: Sendable>(
        _ body: () async throws -> Result
    ) async throws -> Result {
        try await beginTransaction()
        let result: Result
        do {
            result = try await body()
        } catch {
            try? await abortTransaction()
            throw error
        }
        do {
            try await commitTransaction()
        } catch let error as KafkaError where error.requiresAbort {
            try? await abortTransaction()
            throw error
        }
        return result
    }

    private func initializeTransactionsIfNeeded() async throws {
        let client = self.client
        try await transactionsInitializedOnce {
            try await Blocking.run {
                if let error = rd_kafka_init_transactions(client.pointer, 30_000) {
                    throw KafkaError(consuming: error, context: "could not initialize transactions")
                }
            }
        }
    }

    private func retryingTransactionCall(
        timeout: Duration,
        context: String,
        _ call: @escaping @Sendable (OpaquePointer, Int32) -> OpaquePointer?
    ) async throws {
        let client = self.client
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let remaining = max(Duration.milliseconds(1), deadline - clock.now)
            let failure: KafkaError? = try await Blocking.run {
                guard let error = call(client.pointer, Int32(clamping: remaining.milliseconds)) else { return nil }
                return KafkaError(consuming: error, context: context)
            }
            guard let failure else { return }
            guard failure.isRetriable, !failure.requiresAbort, !failure.isFatal, clock.now < deadline else {
                throw failure
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
