/// An array parameter in PostgreSQL's array text form (`{"a","b"}`), every element quoted with
/// `"` and `\` escaped; cast it in the SQL (`\(ids)::bigint[]`, `unnest(\(names)::text[])`).
extension Array: PostgresEncodable where Element: PostgresEncodable {
    public var postgresText: String {
        "{" + map { element in
            var quoted = "\""
            for c in element.postgresText {
                if c == "\"" || c == "\\" { quoted.append("\\") }
                quoted.append(c)
            }
            return quoted + "\""
        }.joined(separator: ",") + "}"
    }
}
