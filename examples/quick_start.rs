use docspace_tfa::Client;

fn main() -> Result<(), docspace_tfa::Error> {
    let client = Client::from_env()?; // DOCSPACE_URL, DOCSPACE_TOKEN

    // Step 1: what the authenticator app needs.
    let setup = client.tfa().setup()?;
    println!("account: {}", setup.account);
    println!("manual key: {}", setup.manual_entry_key.expose());

    // Step 2: the first code the app shows.
    let mut code = String::new();
    std::io::stdin().read_line(&mut code).ok();
    let validation = client.tfa().validate(&code)?;
    println!("first activation: {}", validation.first_activation);
    Ok(())
}
