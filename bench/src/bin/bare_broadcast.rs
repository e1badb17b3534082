//! The benchmark's peer: a bare actix-ws server that sends every text frame
//! it receives to every connection in the same room, with no storage,
//! encryption or authentication. `GET /ws?room=N` joins room N.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use clap::Parser;
use futures_util::StreamExt;

#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9100")]
    listen: String,
}

type Rooms = Arc<Mutex<HashMap<u32, Vec<(u64, actix_ws::Session)>>>>;

#[derive(serde::Deserialize)]
struct Join {
    room: u32,
}

async fn connect(
    request: HttpRequest,
    body: web::Payload,
    join: web::Query<Join>,
    rooms: web::Data<Rooms>,
    ids: web::Data<std::sync::atomic::AtomicU64>,
) -> Result<HttpResponse, actix_web::Error> {
    let (response, session, stream) = actix_ws::handle(&request, body)?;
    let id = ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let room = join.room;
    let rooms = rooms.get_ref().clone();
    lock(&rooms).entry(room).or_default().push((id, session));

    actix_web::rt::spawn(async move {
        let mut stream = stream.max_frame_size(64 * 1024);
        while let Some(Ok(message)) = stream.next().await {
            if let actix_ws::Message::Text(text) = message {
                let members: Vec<actix_ws::Session> = lock(&rooms)
                    .get(&room)
                    .map(|list| list.iter().map(|(_, s)| s.clone()).collect())
                    .unwrap_or_default();
                for mut member in members {
                    let _ = member.text(text.clone()).await;
                }
            }
        }
        if let Some(list) = lock(&rooms).get_mut(&room) {
            list.retain(|(member, _)| *member != id);
        }
    });
    Ok(response)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let rooms: Rooms = Arc::default();
    let rooms = web::Data::new(rooms);
    let ids = web::Data::new(std::sync::atomic::AtomicU64::new(0));
    println!("bare broadcast server on {}", args.listen);
    HttpServer::new(move || {
        App::new()
            .app_data(rooms.clone())
            .app_data(ids.clone())
            .route("/ws", web::get().to(connect))
    })
    .workers(1)
    .bind(&args.listen)?
    .run()
    .await
}
