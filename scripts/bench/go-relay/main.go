// The least a Go middle process can do between a client and the server, the Go counterpart of bare-relay.ts:
// `go-relay UPSTREAM_PORT CA_FILE` listens on a loopback port it prints, and for each client opens TCP to
// 127.0.0.1:UPSTREAM_PORT, sends SSLRequest, expects 'S', verifies the server (name "localhost", CA_FILE) over
// crypto/tls, and then copies bytes both ways with io.Copy and nothing else. The client logs in through it with
// the server's own password (md5 passes through). Standard library only: the bench builds it with `go build`
// (Debian's golang-go), no module to download. Only the benchmark uses it; no test needs Go.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
)

var sslRequest = []byte{0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go-relay UPSTREAM_PORT CA_FILE")
		os.Exit(2)
	}
	port, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-relay: UPSTREAM_PORT is not a number")
		os.Exit(2)
	}
	pem, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-relay:", err)
		os.Exit(2)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fmt.Fprintln(os.Stderr, "go-relay: no certificate in", os.Args[2])
		os.Exit(2)
	}
	config := &tls.Config{ServerName: "localhost", RootCAs: roots}
	upstream := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-relay:", err)
		os.Exit(1)
	}
	fmt.Println(listener.Addr().(*net.TCPAddr).Port)
	for {
		client, err := listener.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "go-relay:", err)
			os.Exit(1)
		}
		go serve(client, upstream, config)
	}
}

func serve(client net.Conn, upstream string, config *tls.Config) {
	defer client.Close()
	tcp, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer tcp.Close()
	if _, err := tcp.Write(sslRequest); err != nil {
		return
	}
	answer := make([]byte, 1)
	if _, err := io.ReadFull(tcp, answer); err != nil || answer[0] != 'S' {
		return
	}
	server := tls.Client(tcp, config)
	if err := server.Handshake(); err != nil {
		return
	}
	defer server.Close()
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(server, client)
		done <- struct{}{}
	}()
	go func() {
		io.Copy(client, server)
		done <- struct{}{}
	}()
	// Either side closing ends the session, as the Node relay destroys the other socket.
	<-done
}
