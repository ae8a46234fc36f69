fn main() -> std::process::ExitCode {
    newsflow_web::main()
}
