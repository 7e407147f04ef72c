//! The demo host registered in the inventory and reached through a session.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use protocol::{ServerEvent, ServerMsg};
use services::{Admin, Config, Services};

#[tokio::test]
async fn the_first_admin_reaches_a_shell_on_the_demo_host() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        admin_password: Some("first-admin-pw".to_owned()),
        ..Config::with_data_dir(dir.path())
    };
    let (services, _) = Services::start(config.clone()).await.unwrap();
    services.start_demo_host(0).await.unwrap();
    let admin = services
        .log_in("admin", "first-admin-pw", IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .unwrap();
    let granted = services.granted_accounts(&admin).await.unwrap();
    assert_eq!(granted.len(), 1);
    assert_eq!(
        (
            granted[0].project_name.as_str(),
            granted[0].host_name.as_str()
        ),
        ("Demo", "demo")
    );

    let id = services
        .start_session(&admin, granted[0].host_account_id)
        .await
        .unwrap();
    let mut attachment = services.attach_terminal(&admin, id).await.unwrap();
    attachment.input(b"echo demo-$((6*7))\r".to_vec());
    let mut seen = String::new();
    while !seen.contains("demo-42") {
        let frames = tokio::time::timeout(Duration::from_secs(10), attachment.next())
            .await
            .unwrap()
            .unwrap();
        for frame in frames {
            match ServerMsg::decode(&frame.bytes).unwrap() {
                ServerMsg::Output(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
                ServerMsg::Event(ServerEvent::Ended { message, .. }) => panic!("{message}"),
                ServerMsg::Event(_) => {}
            }
        }
    }
    services.exit_session(&admin, id).await.unwrap();

    // A restart on another port updates the host instead of adding one.
    drop(services);
    let (services, _) = Services::start(config).await.unwrap();
    let port = services.start_demo_host(0).await.unwrap();
    let hosts = services.list_hosts(Admin::command_line()).await.unwrap();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].port, port);
    assert_eq!(
        services
            .list_host_accounts(Admin::command_line())
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        services
            .list_grants(Admin::command_line())
            .await
            .unwrap()
            .len(),
        1
    );
}
