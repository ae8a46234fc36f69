fn main() -> std::process::ExitCode {
    newsflow_storage::service::main()
}
