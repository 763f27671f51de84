/// `count` and a noun, singular for 1: "1 probe", "2 probes", "1 policy" (`plural`: "policies").
public func counted(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
}
