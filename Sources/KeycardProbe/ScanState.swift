import KeycardScenario

/// Open, closed or filtered: what a scan reports per endpoint.
public typealias ScanState = KeycardScenario.ScanResult.State
