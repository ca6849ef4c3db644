// TaskThread: one background thread running posted tasks in order. The store
// uses it for asynchronous reads, so a front end can load a large run
// without blocking its UI thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace glassbox::projects {

class TaskThread {
public:
    TaskThread();
    ~TaskThread();  // stop()
    TaskThread(const TaskThread&) = delete;
    TaskThread& operator=(const TaskThread&) = delete;

    // Queue a task; false (and the task is dropped) after stop().
    bool post(std::function<void()> task);
    // Run the queued tasks, then end the thread. Safe to call twice.
    void stop();

private:
    void loop();

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::function<void()>> m_tasks;
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace glassbox::projects
