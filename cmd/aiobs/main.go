// Command aiobs compiles observability decisions for AI inference workloads
// into Grafana dashboards, Prometheus and Loki rules and their provisioning.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
