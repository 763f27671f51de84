import Logging
import Testing

@testable import KeycardKernel

/// The one home of a batch's debug log fields: a transaction's own line and a lab's whole programming.
@Suite struct NftBatchReportLoggingTests {
    static func report(_ messages: [NftMessageKind], bytes: Int, send: Double, ack: Double) -> NftBatchReport {
        NftBatchReport(messages: messages, bytes: bytes, buildSeconds: 0.5, sendSeconds: send, ackSeconds: ack)
    }

    @Test func oneBatchLogsMessagesBytesAndKernelMilliseconds() {
        let metadata = Self.report([.newTable, .newChain, .newRule], bytes: 412, send: 0.0021, ack: 0.0014).logMetadata
        // Building (0.5 s) is not the kernel's time: 2.1 + 1.4 ms, in whole milliseconds.
        #expect(metadata == ["messages": "3", "bytes": "412", "ms": "3"])
    }

    @Test func totalAddsEveryBatchAndIsEmptyForNone() {
        let total = NftBatchReport.total([
            Self.report([.newRule], bytes: 100, send: 0.0105, ack: 0.0011),
            Self.report([.newRule, .newSetElements], bytes: 60, send: 0.0203, ack: 0.0022),
        ])
        // 10.5 + 1.1 + 20.3 + 2.2 = 34.1 ms.
        #expect(total.logMetadata == ["messages": "3", "bytes": "160", "ms": "34"])
        #expect(NftBatchReport.total([]).logMetadata == ["messages": "0", "bytes": "0", "ms": "0"])
    }
}
