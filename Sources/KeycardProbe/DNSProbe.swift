import Glibc
import KeycardKernel
import KeycardModel
import KeycardScenario
import KeycardValues

/// `dns` steps with real packets: glibc's resolver asks the cluster DNS address from inside the
/// source pod's namespace, with the pod's search path; policies see an ordinary UDP/53 flow.
public struct DNSProbe: Sendable {
    /// Each pod's network namespace.
    public let namespaces: [ObjectKey: String]

    public init(namespaces: [ObjectKey: String]) { self.namespaces = namespaces }

    /// Asks `server` for `dns.name` from `dns.from` with the pod's `resolvConf`
    /// (`Timeline.resolvConf(of:atStep:)`): its search list, `ndots` and options (`use-vc` asks over
    /// TCP). Each try waits the file's `timeout`, else the probe timeout rounded up to whole seconds
    /// (libresolv's unit); the file's `attempts`, else `retries` + 1 tries, before a missing
    /// answer counts as `blocked` (over TCP glibc tries each server once: `send_vc`).
    public func query(_ dns: DNSStep, server: IPv4, resolvConf: ResolvConf, settings: ProbeSettings) throws -> (
        answer: DNSAnswer, milliseconds: Int
    ) {
        guard let namespace = namespaces[dns.from] else { throw ProbeError.unknownEndpoint(dns.from.description) }
        var query = DNSQuery(
            namespace: namespace, name: dns.name, server: server, search: resolvConf.searches,
            timeoutSeconds: max(1, resolvConf.timeout ?? (settings.timeoutMilliseconds + 999) / 1000),
            attempts: max(1, resolvConf.attempts ?? settings.retries + 1))
        query.ndots = resolvConf.ndots
        query.options = resolvConf.options
        let clock = ContinuousClock()
        let start = clock.now
        let outcome: DNSQueryOutcome
        if resolvConf.searches.count > DNSQuery.maximumSearchDomains {
            outcome = try Self.searchByName(query, resolvConf: resolvConf)
        } else {
            outcome = try query.run()
        }
        let elapsed = clock.now - start
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return (Self.answer(outcome), milliseconds)
    }

    /// A search list longer than libresolv's state holds (a pod's `dnsConfig` may add up to 32;
    /// glibc reads them all from resolv.conf): each name the resolver would try asked as written,
    /// as `res_nsearch` goes on (`DNSRecords.search`): past NXDOMAIN and an empty answer,
    /// stopping at any answer with records (a CNAME without an address too); a timeout or another
    /// failure ends the search list, and the name as written is asked after it. glibc also goes on after SERVFAIL, which the
    /// lab's server never sends (libresolv reports it as a timeout is reported: `.noAnswer`).
    static func searchByName(_ query: DNSQuery, resolvConf: ResolvConf) throws -> DNSQueryOutcome {
        // glibc's order and stops (`DNSRecords.search`): a query without answer ends the list,
        // then the name as written is asked.
        var last: DNSQueryOutcome = .notFound
        var outcomes: [String: DNSQueryOutcome] = [:]
        let result = try DNSRecords.search(
            query.name, searches: resolvConf.searches, ndots: resolvConf.ndots, noTLDQuery: resolvConf.noTLDQuery
        ) { candidate in
            var single = query
            single.name = candidate + "."
            single.search = []
            let outcome = try single.run()
            outcomes[candidate] = outcome
            last = outcome
            switch outcome {
            case .answered(let addresses): return .answered(addresses)
            case .noAddress: return .answered([])
            case .notFound: return .notFound
            case .noAnswer, .failed: return .noAnswer
            }
        }
        switch result {
        case .answered(let addresses): return addresses.isEmpty ? .noAddress : .answered(addresses)
        case .notFound: return .notFound
        case .unqueryable: return .failed(hErrno: NO_RECOVERY, errno: 0)
        case .noAnswer:
            // A failure other than a timeout is reported as it was.
            if case .failed = last { return last }
            return outcomes.values.first { if case .failed = $0 { true } else { false } } ?? .noAnswer(errno: ETIMEDOUT)
        }
    }

    static func answer(_ outcome: DNSQueryOutcome) -> DNSAnswer {
        switch outcome {
        case .answered(let addresses): .addresses(addresses)
        case .notFound, .noAddress: .notFound
        case .noAnswer: .blocked
        case .failed(let hErrno, let errno): .failed("resolver h_errno \(hErrno), errno \(errno)")
        }
    }
}

extension StepEvaluation {
    /// Runs a `dns` step through `query` and judges it: the observed answer must equal the
    /// expectation (the model's when the file gives none), and an explicit one must agree with the
    /// model. An unjudged step (`DNSResult.reason`) sends nothing and passes.
    public static func dns(
        _ step: Step, _ dns: DNSStep, timeline: Timeline,
        query: (DNSStep, IPv4) throws -> (answer: DNSAnswer, milliseconds: Int)
    ) throws -> StepReport {
        var result = ModelReport.dnsResult(dns, step: step, timeline: timeline)
        // A query the model does not judge is not sent, as a probe cell it does not judge.
        if result.reason != nil {
            return StepReport(step, passed: true, results: [.dns(result)], summary: ModelReport.dnsSummary(result))
        }
        let observed = try query(dns, result.server)
        result.observed = observed.answer
        result.milliseconds = observed.milliseconds
        return StepReport(
            step, passed: result.passed, results: [.dns(result)],
            summary: ModelReport.dnsSummary(result))
    }
}
