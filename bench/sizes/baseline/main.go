// Command baseline is what the quickstart binary is measured against: a
// plain echo server with a SQLite database (modernc.org/sqlite, the driver
// the runtime embeds) and a River client on it, the same building blocks
// without Bifrost. It is built, never run, by make bench (bench/run.sh size).
package main

import (
	"context"
	"database/sql"
	"log"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite"
)

type greetArgs struct {
	Name string `json:"name"`
}

func (greetArgs) Kind() string { return "greet" }

type greetWorker struct {
	river.WorkerDefaults[greetArgs]
}

func (greetWorker) Work(ctx context.Context, job *river.Job[greetArgs]) error { return nil }

func main() {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "baseline.db?_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	migrator, err := rivermigrate.New(riversqlite.New(db), nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		log.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, greetWorker{})
	client, err := river.NewClient(riversqlite.New(db), &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}},
		Workers: workers,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	e.POST("/greet", func(c echo.Context) error {
		var in greetArgs
		if err := c.Bind(&in); err != nil {
			return err
		}
		if _, err := client.Insert(c.Request().Context(), in, nil); err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, map[string]string{"status": "queued"})
	})
	log.Fatal(e.Start("127.0.0.1:8080"))
}
