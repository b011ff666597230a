package main

// Keeps the chosen dependencies in go.mod while the packages that use them are being written.
// TODO(foundation): remove once every dependency has a real import.
import (
	_ "github.com/Netflix/go-expect"
	_ "github.com/creack/pty"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/hinshun/vt10x"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/joho/godotenv"
)
