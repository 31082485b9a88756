import DabbaKafka
import Testing

@testable import DabbaPipeline

@Suite("Throttle: a token bucket that goes into debt, driven by an injected clock")
struct ThrottleTests {
    let start = ContinuousClock.now
    let p0 = TopicPartition(topic: "orders", partition: 0)
    let p1 = TopicPartition(topic: "orders", partition: 1)

    @Test("a full bucket admits its burst; more goes into debt, repaid at the rate")
    func debtAndRepayment() {
        var bucket = TokenBucket(rate: 100, burst: 50, now: start)
        #expect(bucket.available(at: start) == 50)
        bucket.take(50, at: start)
        #expect(bucket.repaid(after: start) == nil, "exactly empty is not in debt")
        bucket.take(20, at: start)
        // 20 tokens of debt at 100 tokens/s: repaid after 200 ms.
        #expect(close(bucket.repaid(after: start), start + .milliseconds(200)))
        #expect(close(bucket.repaid(after: start + .milliseconds(100)), start + .milliseconds(200)))
        #expect(bucket.repaid(after: start + .milliseconds(201)) == nil)
    }

    @Test("refill stops at the burst: a long quiet period does not bank more than the burst")
    func refillIsCapped() {
        var bucket = TokenBucket(rate: 10, burst: 5, now: start)
        bucket.take(5, at: start)
        #expect(bucket.available(at: start + .seconds(60)) == 5)
    }

    @Test("over a long run the tokens taken never exceed burst + rate × time (+ one batch)")
    func longRunRate() {
        var bucket = TokenBucket(rate: 200, burst: 200, now: start)
        var now = start
        var taken = 0
        // A consumer that takes batches of up to the burst whenever the bucket is out of debt, every 10 ms.
        while now < start + .seconds(20) {
            if bucket.repaid(after: now) == nil {
                bucket.take(137, at: now)
                taken += 137
            }
            now += .milliseconds(10)
        }
        #expect(taken <= 200 + 200 * 20 + 137)
        #expect(taken >= 200 * 20 - 137, "a consumer that keeps up is held to the rate, not below it")
    }

    @Test(
        "configurations: the default burst is one second's worth and caps the batch",
        arguments: [
            (ThrottleConfiguration(eventsPerSecond: 100), 500, 100),
            (ThrottleConfiguration(eventsPerSecond: 0.5), 500, 1),
            (ThrottleConfiguration(eventsPerSecond: 1000, burst: 64), 500, 64),
            (ThrottleConfiguration(eventsPerSecond: 10_000, eventsPerSecondPerPartition: 30), 500, 30),
            (ThrottleConfiguration(), 500, 500),
        ]
    )
    func batchLimit(configuration: ThrottleConfiguration, batchSize: Int, expected: Int) {
        #expect(configuration.batchLimit(batchSize) == expected)
    }

    @Test("invalid limits are named")
    func problems() {
        #expect(ThrottleConfiguration(eventsPerSecond: 0).problem?.contains("events per second") == true)
        #expect(ThrottleConfiguration(eventsPerSecondPerPartition: -1).problem?.contains("per partition") == true)
        #expect(ThrottleConfiguration(eventsPerSecond: .infinity).problem != nil)
        #expect(ThrottleConfiguration(eventsPerSecond: 5, burst: 0).problem?.contains("burst") == true)
        #expect(ThrottleConfiguration(eventsPerSecond: 5).problem == nil)
    }

    @Test("the instance's debt pauses everything; a partition's debt pauses that partition only")
    func debitPauses() {
        let throttle = Throttle(
            configuration: ThrottleConfiguration(eventsPerSecond: 100, eventsPerSecondPerPartition: 40), now: start
        )
        var pauses = throttle.debit([p0: 30, p1: 30], now: start)
        #expect(pauses == Throttle.Pauses())
        pauses = throttle.debit([p0: 20], now: start)
        // p0 took 50 of its 40: 10 in debt at 40/s, 250 ms. The instance took 80 of its 100.
        #expect(pauses.everything == nil)
        #expect(Array(pauses.partitions.keys) == [p0])
        #expect(close(pauses.partitions[p0], start + .milliseconds(250)))
        pauses = throttle.debit([p1: 10, p0: 0], now: start + .milliseconds(100))
        // The instance: 100 + 10 refilled - 90 = 20 left; p1: 40 - 30 + 4 - 10 = 4 left.
        #expect(pauses == Throttle.Pauses())
        pauses = throttle.debit([p1: 30], now: start + .milliseconds(100))
        // The instance: 20 - 30 = -10 at 100/s: 100 ms; p1: 4 - 30 = -26 at 40/s: 650 ms.
        #expect(close(pauses.everything, start + .milliseconds(200)))
        #expect(Array(pauses.partitions.keys) == [p1])
        #expect(close(pauses.partitions[p1], start + .milliseconds(750)))
        #expect(throttle.isPipelineInDebt(now: start + .milliseconds(150)))
        #expect(!throttle.isPipelineInDebt(now: start + .milliseconds(201)))
    }

    /// Equal to within a microsecond (the bucket computes in floating point).
    func close(_ instant: ContinuousClock.Instant?, _ expected: ContinuousClock.Instant) -> Bool {
        guard let instant else { return false }
        let difference = instant > expected ? instant - expected : expected - instant
        return difference <= .microseconds(1)
    }
}
