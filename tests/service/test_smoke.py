def test_health_is_public_and_counts_the_index(client):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["companies"] == 12 and body["scenarios"] == 3 and body["model"]
