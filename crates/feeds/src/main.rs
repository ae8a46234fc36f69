fn main() -> std::process::ExitCode {
    newsflow_feeds::service::main()
}
